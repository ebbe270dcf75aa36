"""Worker logging: stdlib logging to stderr, as text or as one JSON object a line."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

LOGGER = "taskctl.worker"
# attributes every LogRecord has: anything else was passed with `extra=` and goes into JSON lines
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                doc[key] = value
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    converter = staticmethod(time.gmtime)

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03dZ %(levelname)s [%(process)d] %(message)s", "%Y-%m-%dT%H:%M:%S"
        )


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to stderr through its own buffer: a busy worker logs thousands of job lines a second,
    and a write per line costs more than the job. Warnings and errors are flushed at once; other
    lines when the buffer fills, when 0.2 s have passed, or when `flush()` is called (an execution
    process flushes before it goes idle, so a quiet worker's log is always complete)."""

    def __init__(self) -> None:
        stream = open(sys.stderr.fileno(), "w", buffering=1 << 16, closefd=False, encoding="utf-8")  # noqa: SIM115
        super().__init__(stream)
        self.flushed = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + "\n")
            now = time.monotonic()
            if record.levelno >= logging.WARNING or now - self.flushed > 0.2:
                self.flushed = now
                self.stream.flush()
        except Exception:
            self.handleError(record)


def flush() -> None:
    for h in logging.getLogger("taskctl").handlers:
        h.flush()


def setup_logging(level: str = "INFO", fmt: str = "text") -> logging.Logger:
    """Configure the worker's loggers (idempotent); returns the worker logger."""
    # no caller lookup, thread or multiprocessing names: unused, and they cost on every line
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger("taskctl")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    return logging.getLogger(LOGGER)
