"""Helpers shared by tests: contract events as an agent would send them."""
