"""The one place an exception becomes a line on stderr and an exit code (docs/exit-codes.md).

Used by the CLI (`taskctl.app.run`), `manage.py taskctl` and the worker's own entry point, which runs
without the CLI modules. Expected failures print one line; only a bug (exit 70) prints a traceback.
"""

from __future__ import annotations

import sys
import traceback

from scheduler_core.errors import TaskctlError, from_service_error


def fail(message: str, code: int) -> int:
    sys.stderr.write(f"taskctl: error: {message}\n")
    return code


def exit_code_for(exc: Exception, *, debug: bool = False) -> int:
    """Report `exc` and return its exit code: the error tree's, a driver error's, else 70."""
    known = exc if isinstance(exc, TaskctlError) else from_service_error(exc)
    if known is None:
        traceback.print_exc()
        return fail("internal error (a bug): please report the traceback above", 70)
    if debug:
        traceback.print_exc()
    return fail(str(known), known.exit_code)
