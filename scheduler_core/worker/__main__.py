"""The worker's own entry point: `taskctl worker start` checks its arguments and then replaces
itself (exec, same pid) with `python -m scheduler_core.worker OPTIONS_JSON`.

Why: the CLI process holds Typer, Click, Rich, pydantic (through Typer) and every command module.
A worker needs none of them, and its execution processes and scheduler are forked from it, so
whatever the supervisor holds is part of every process of the tree. Starting from a fresh
interpreter keeps the tree to Django, redis and the worker itself.
"""

from __future__ import annotations

import sys
from typing import Any

from scheduler_core.errors import TaskctlError, from_service_error


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"taskctl: error: {message}\n")
    return code


def main(argv: list[str]) -> int:
    import orjson

    from taskctl import bootstrap

    spec: dict[str, Any] = orjson.loads(argv[0])
    debug = bool(spec.get("debug"))
    try:
        bootstrap.options.settings = spec.get("settings")
        bootstrap.options.pythonpath = spec.get("pythonpath")
        bootstrap.options.debug = debug
        bootstrap.setup_django()
        from scheduler_core.queues import get_queue
        from scheduler_core.worker import WorkerOptions, run_worker
        from scheduler_core.worker.logs import setup_logging

        for name in spec["options"]["queues"]:
            get_queue(name)  # an unknown queue: one line, exit 3, before any log line
        setup_logging(spec["log_level"], spec["log_format"])
        return run_worker(WorkerOptions(**spec["options"]))
    except KeyboardInterrupt:
        return 130
    except TaskctlError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        return _fail(str(exc), exc.exit_code)
    except Exception as exc:
        import traceback

        known = from_service_error(exc)
        if known is not None:
            if debug:
                traceback.print_exc()
            return _fail(str(known), known.exit_code)
        traceback.print_exc()
        return _fail("internal error (a bug): please report the traceback above", 70)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
