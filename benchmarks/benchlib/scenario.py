"""The frame of a scenario script: arguments, the system's side module, skipping, one JSON line."""

from __future__ import annotations

import argparse
import importlib
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

from benchlib.common import NotAvailable, emit, scenario_args, skipped


def side(system: str) -> ModuleType:
    return importlib.import_module(f"benchlib.side_{system}")


def main(
    name: str,
    description: str,
    systems: tuple[str, ...],
    body: Callable[[argparse.Namespace, ModuleType], dict[str, Any]],
    **defaults: Any,
) -> None:
    """Run `body(args, side)` and print its result as the scenario's JSON line.

    The taskctl side is skipped (not crashed) when the piece of taskctl it needs is missing; the
    peers' sides must work, so their errors propagate."""
    args = scenario_args(description, systems, **defaults)
    try:
        mod = side(args.system)
    except ImportError as exc:
        if args.system != "taskctl":
            raise
        skipped(name, args, f"taskctl side not available: {exc}")
        return
    try:
        result = body(args, mod)
    except NotAvailable as exc:
        skipped(name, args, f"taskctl side not available: {exc}")
        return
    except Exception as exc:  # the taskctl side is being written: report, don't crash the run
        if args.system != "taskctl":
            raise
        traceback.print_exc()
        skipped(name, args, f"taskctl side failed: {type(exc).__name__}: {exc}")
        return
    finally:
        cleanup = getattr(mod, "cleanup", None)
        if cleanup is not None:
            cleanup()
    emit(name, args, **result)
