"""Exceptions to one stderr line and an exit code: the app's own mapping (scheduler_core.failures)."""

from scheduler_core.failures import exit_code_for, fail

__all__ = ["exit_code_for", "fail"]
