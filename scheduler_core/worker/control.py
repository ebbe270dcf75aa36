"""Operator-side worker control: list live workers and send them commands (pub/sub).

Used by `taskctl workers ...` and, through job_actions.stop, `taskctl jobs stop`. A worker is
live while its heartbeat is younger than LEASE_TTL; commands to a name that is not live are
NotFound (exit 3).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import get_config
from scheduler_core.errors import NotFound

if TYPE_CHECKING:
    import redis

    from scheduler_core.jobs.record import Job


def _client() -> redis.Redis:
    from scheduler_core.broker.connection import get_client

    cfg = get_config()
    return get_client(cfg.broker_url, cfg.connect_timeout)


def list_workers() -> list[dict[str, Any]]:
    """Live workers, by name: name, host, pid, queues, state, current_jobs, jobs_done, jobs_failed,
    started_at, last_heartbeat (aware UTC datetimes)."""
    from scheduler_core.worker.heartbeat import live_since, worker_record

    cfg = get_config()
    keys = GlobalKeys(cfg.key_prefix)
    r = _client()
    live: list[tuple[str, float]] = r.zrangebyscore(  # type: ignore[assignment]
        keys.workers, live_since(cfg, time.time()), "+inf", withscores=True
    )
    if not live:
        return []
    pipe = r.pipeline(transaction=False)
    for name, _ in live:
        pipe.hgetall(keys.worker(name))
    out = []
    for (name, score), h in zip(live, pipe.execute(), strict=True):
        if h:
            out.append(worker_record({"name": name, **h}, score))
    return sorted(out, key=lambda w: w["name"])


def _require_live(name: str) -> None:
    from scheduler_core.worker.heartbeat import live_since

    cfg = get_config()
    score = _client().zscore(GlobalKeys(cfg.key_prefix).workers, name)
    if score is None or float(score) < live_since(cfg, time.time()):
        raise NotFound(f"no running worker named {name!r} (see `taskctl workers list`)")


def _send(command: str, name: str, job_id: str | None = None) -> None:
    from scheduler_core.broker.channels import publish
    from scheduler_core.worker.commands import encode

    publish(_client(), GlobalKeys(get_config().key_prefix).commands, encode(command, name, job_id))


def stop_worker(name: str, now: bool = False) -> None:
    """Ask a worker to shut down: warm (finish running jobs) or, with now=True, cold (stop them)."""
    _require_live(name)
    _send("shutdown-now" if now else "shutdown", name)


def suspend_worker(name: str) -> None:
    """Ask a worker to take no new jobs (running ones finish) until resumed."""
    _require_live(name)
    _send("suspend", name)


def resume_worker(name: str) -> None:
    _require_live(name)
    _send("resume", name)


def send_stop(job: Job) -> None:
    """Publish stop-job to the worker that runs `job` (an active job); NotFound if it is gone."""
    worker = job.worker or ""
    try:
        _require_live(worker)
    except NotFound:
        lost = f"job {job.id}: its worker {worker!r} is not running"
        raise NotFound(f"{lost}; the job is recovered when its lease expires") from None
    _send("stop-job", worker, job.id)
