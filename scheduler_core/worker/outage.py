"""Riding out a broker fault: which errors are one, and one log line per change of state.

A worker or scheduler retries through an unreachable broker or one that refuses writes for lack
of memory; it logs when the fault starts, when it turns into another, and when it ends, never once
per attempt."""

from __future__ import annotations

import logging

from scheduler_core.broker.connection import outage_errors
from scheduler_core.errors import BrokerUnavailable, is_out_of_memory


def is_outage(exc: BaseException) -> bool:
    """A broker fault worth retrying through: unreachable, timed out, out of memory, or on a
    Redis Cluster a slot being failed over (see broker.connection.outage_errors)."""

    return isinstance(exc, (*outage_errors(), BrokerUnavailable)) or is_out_of_memory(exc)


def kind(exc: BaseException) -> str:
    if is_out_of_memory(exc) or "out of memory" in str(exc):
        return "broker out of memory (writes refused)"
    return "broker unreachable"


def changed(log: logging.Logger, before: str, what: str, exc: BaseException | None) -> str:
    """Log `what`'s new state if it changed; returns the state to keep ("" for healthy)."""
    now = "" if exc is None else kind(exc) if is_outage(exc) else f"failed ({type(exc).__name__})"
    if now != before:
        if now:
            log.error("%s: %s: %s (retrying; logged again when this changes)", what, now, exc,
                      extra={"fault": now})  # fmt: skip
        else:
            log.warning("%s: working again after: %s", what, before, extra={"fault": ""})
    return now
