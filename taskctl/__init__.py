"""taskctl: the operator CLI for scheduler_core."""

__version__ = "0.1.0"
