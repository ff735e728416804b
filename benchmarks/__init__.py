"""``make bench``: every figure the issues ask for, measured on this machine, beside its baseline."""
