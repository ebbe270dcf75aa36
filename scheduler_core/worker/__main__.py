"""The worker's own entry point: `taskctl worker start` checks its arguments and then replaces
itself (exec, same pid) with `python -m scheduler_core.worker OPTIONS_JSON`.

Why: the CLI process holds Typer, Click, Rich, pydantic (through Typer) and every command module.
A worker needs none of them, and its execution processes and scheduler are forked from it, so
whatever the supervisor holds is part of every process of the tree. Starting from a fresh
interpreter keeps the tree to Django, redis and the worker itself. Settings resolution and exit codes
come from scheduler_core: the worker runs with only the app installed (no `taskctl` on the path).
"""

from __future__ import annotations

import sys
from typing import Any


def main(argv: list[str]) -> int:
    import orjson

    from scheduler_core import bootstrap
    from scheduler_core.failures import exit_code_for

    spec: dict[str, Any] = orjson.loads(argv[0])
    debug = bool(spec.get("debug"))
    try:
        bootstrap.options.settings = spec.get("settings")
        bootstrap.options.pythonpath = spec.get("pythonpath")
        bootstrap.options.debug = debug
        bootstrap.setup_django()
        from scheduler_core.queues.queue import get_queue
        from scheduler_core.worker import WorkerOptions, run_worker
        from scheduler_core.worker.logs import setup_logging

        for name in spec["options"]["queues"]:
            get_queue(name)  # an unknown queue: one line, exit 3, before any log line
        # an unreachable database is exit 69 now, as a broker is (docs/faults.md); an outage
        # after start is ridden out: the scheduler retries, task runs are recorded late. A SQLite
        # file that is not there yet is no outage (the worker runs plain jobs without one).
        bootstrap.check_database(create=True)
        setup_logging(spec["log_level"], spec["log_format"])
        return run_worker(WorkerOptions(**spec["options"]))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return exit_code_for(exc, debug=debug)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
