"""Fault injection: sequence-numbered load through the real stack while processes and servers fail."""
