"""Small real job callables for examples/tasks.yaml: each logs what it does and returns JSON data."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("examples.jobs")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def hello(name: str = "world") -> dict[str, Any]:
    """Greet someone; the smallest job there is."""
    message = f"hello, {name}"
    log.info(message)
    print(message, flush=True)
    return {"message": message, "at": _now()}


def send_report(recipients: list[str], title: str = "nightly report") -> dict[str, Any]:
    """Pretend to mail a report: logs one line per recipient, returns who got it."""
    for to in recipients:
        log.info("sending %r to %s", title, to)
    print(f"report {title!r} sent to {len(recipients)} recipient(s)", flush=True)
    return {"title": title, "sent_to": list(recipients), "at": _now()}


def poll(feed: str = "https://example.com/feed.xml", limit: int = 10) -> dict[str, Any]:
    """Pretend to poll a feed: returns how many (made-up, deterministic) items are new this minute."""
    new = datetime.now(UTC).minute % (limit + 1)
    log.info("polled %s: %d new item(s)", feed, new)
    print(f"polled {feed}: {new} new", flush=True)
    return {"feed": feed, "new_items": new, "at": _now()}


def migrate(step: str = "all", dry_run: bool = False) -> dict[str, Any]:
    """A one-off data fix: logs its step and returns what it would have changed."""
    log.info("migrate step=%s dry_run=%s", step, dry_run)
    print(f"migrate {step}{' (dry run)' if dry_run else ''}", flush=True)
    return {"step": step, "dry_run": dry_run, "rows": 0, "at": _now()}


def cleanup(days: int = 30) -> dict[str, Any]:
    """Drop records older than `days` days (here: report the cut-off)."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    stamp = cutoff.isoformat(timespec="seconds").replace("+00:00", "Z")
    log.info("cleanup before %s", stamp)
    print(f"cleanup: records before {stamp}", flush=True)
    return {"days": days, "cutoff": stamp}


def flaky(fail_every: int = 3) -> dict[str, Any]:
    """Fails on some minutes (to show retries and failure handling), succeeds on the others."""
    minute = datetime.now(UTC).minute
    if fail_every > 0 and minute % fail_every == 0:
        raise RuntimeError(f"flaky: minute {minute} is divisible by {fail_every}")
    return {"minute": minute}


def notify_failure(*args: Any, **kwargs: Any) -> None:
    """An on_failure hook: logs what it was told."""
    log.warning("job failed: args=%r kwargs=%r", args, kwargs)
