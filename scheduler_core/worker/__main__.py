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


def main(argv: list[str]) -> int:
    import orjson

    from taskctl import bootstrap
    from taskctl.failures import exit_code_for

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
        # an unreachable database server is exit 69 now, as a broker is (docs/faults.md); an
        # outage after start is ridden out: the scheduler retries, task runs are recorded late.
        # A SQLite file is not a server: a worker of plain jobs needs none, so none is made here
        from django.db import connection

        if connection.vendor != "sqlite":
            bootstrap.check_database()
        setup_logging(spec["log_level"], spec["log_format"])
        return run_worker(WorkerOptions(**spec["options"]))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return exit_code_for(exc, debug=debug)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
