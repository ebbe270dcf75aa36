"""Scrape /metrics over HTTP from the real server, parse it with prometheus_client's parser, and
check every series against what the broker holds (read through the Queue API and worker records)."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from scheduler_core.broker.keys import REGISTRIES, GlobalKeys
from scheduler_core.conf import get_config, reset_config
from scheduler_core.jobs.record import JobStatus, Retry
from scheduler_core.metrics.collector import make_registry
from scheduler_core.metrics.reading import read
from scheduler_core.metrics.series import DURATION_BUCKETS, OUTCOMES, WORKER_STATES
from scheduler_core.metrics.server import make_app, make_http_server
from scheduler_core.queues import lifecycle
from scheduler_core.queues.lifecycle import Outcome
from scheduler_core.queues.queue import JobCall, Queue, get_queue
from scheduler_core.scheduler.leader import Leader
from scheduler_core.worker.control import list_workers
from scheduler_core.worker.heartbeat import Heartbeat
from tests.private_redis import SERVER, PrivateRedis

F = "tests.jobs.noop"
SERIES = {
    "taskctl_queue_jobs", "taskctl_workers", "taskctl_jobs", "taskctl_job_duration_seconds",
    "taskctl_oldest_queued_seconds", "taskctl_scheduler_lateness_seconds", "taskctl_scheduler_leader",
    "taskctl_broker_up",
}  # fmt: skip


@pytest.fixture
def server() -> Iterator[str]:
    """The `metrics serve` server (same app and server classes) on a free port, in a thread."""
    httpd = make_http_server("127.0.0.1", 0, make_app(make_registry()))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def scrape(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(base + "/metrics", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(family: Any, name: str | None = None) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value for s in family.samples if name is None or s.name == name
    }


def finish(q: Queue, t: float, took: float, status: JobStatus = JobStatus.FINISHED, **opts: Any) -> None:
    q.enqueue_call(JobCall(F, **opts), now=t)
    job = lifecycle.claim(q, "w-a", now=t)
    assert job is not None
    assert lifecycle.complete(q, job, Outcome(status, {}), worker="w-a", now=t + took)[0]


def build(now: float) -> dict[str, Any]:
    """Jobs in every registry of `default`, every outcome, one job on `high`, workers and a leader.
    Returns what the test knows it did (outcomes and durations)."""
    d, high = get_queue("default"), get_queue("high")
    lease = d.config.lease_ttl
    # lost: claimed long ago, its lease expired, recovered (with and without retries left)
    d.enqueue_call(JobCall(F, retry=Retry(1, (5,))), now=now - 3 * lease)
    d.enqueue_call(JobCall(F), now=now - 3 * lease)
    assert lifecycle.claim(d, "w-dead", now=now - 3 * lease) and lifecycle.claim(
        d, "w-dead", now=now - 3 * lease
    )
    assert sorted(o for _, o in lifecycle.reap(d, now=now - lease)) == ["failed", "retrying"]
    # the retried lost job (due after its 5 s backoff) runs again and finishes; the other stays failed
    assert d.promote_due(now=now - 10) == 1
    again = lifecycle.claim(d, "w-a", now=now - 10)
    assert again is not None
    assert lifecycle.complete(d, again, Outcome(JobStatus.FINISHED, {}), worker="w-a", now=now - 9.7)[0]
    finish(d, now - 60, 2.0)  # finished, 2 s
    finish(d, now - 60, 0.003, JobStatus.FAILED)
    finish(d, now - 60, 40.0, JobStatus.STOPPED)
    retried = d.enqueue_call(JobCall(F, retry=Retry(2, (3600,))), now=now - 5)
    job = lifecycle.claim(d, "w-a", now=now - 5)
    assert job is not None and job.id == retried.id
    assert lifecycle.retry_later(d, job, 3600, {"exc_type": "ValueError"}, now=now - 4.9)  # scheduled
    d.enqueue_call(JobCall(F, at=now - 20), now=now - 50)  # scheduled, due 20 s ago: late
    d.enqueue_call(JobCall(F), now=now - 100)  # queued 100 s ago
    d.enqueue_call(JobCall(F), now=now - 1)
    d.enqueue_call(JobCall(F), now=now)
    assert lifecycle.claim(d, "w-a", now=now - 100)  # the 100 s one runs: active
    c = d.enqueue_call(JobCall(F), now=now)
    assert d.cancel(c.id, now=now)
    finish(high, now - 1, 0.2)
    # workers: w-a (default, high) idle; w-b (default) suspended; w-gone's heartbeat is too old
    g = d.connection
    for name, queues, state, beat in (
        ("w-a", [d, high], "idle", now),
        ("w-b", [d], "suspended", now),
        ("w-gone", [get_queue("low")], "busy", now - 10 * lease),
    ):
        hb = Heartbeat(name, queues, d.config, g)
        hb.register(beat, 1)
        g.hset(GlobalKeys(d.config.key_prefix).worker(name), "state", state)
    assert Leader(g, GlobalKeys(d.config.key_prefix).scheduler_lock, 30).ensure()
    return {
        "outcomes": {"default": {"finished": 2, "failed": 1, "stopped": 1, "retried": 1, "lost": 2}},
        "durations": {"default": [0.3, 2.0, 0.003, 40.0], "high": [0.2]},
    }


def test_every_series_matches_the_broker(server: str) -> None:
    now = time.time()
    known = build(now)
    fam = scrape(server)
    assert set(fam) == SERIES
    config = get_config()
    names = list(config.queues)

    # registry sizes: as the Queue API counts them, for every queue and registry
    jobs = samples(fam["taskctl_queue_jobs"])
    assert len(jobs) == len(names) * len(REGISTRIES)
    for name in names:
        counts = get_queue(name).counts()
        for registry in REGISTRIES:
            assert jobs[(("queue", name), ("registry", registry))] == counts[registry]
    want = {"scheduled": 2, "queued": 2, "active": 1, "finished": 2, "failed": 3, "canceled": 1}
    assert get_queue("default").counts() == want  # the scene is what the test meant

    # outcome counters: what was done, and the stats hash the scripts wrote
    total = samples(fam["taskctl_jobs"], "taskctl_jobs_total")
    for name in names:
        expected = known["outcomes"].get(name, {})
        for outcome in OUTCOMES:
            want_n = expected.get(outcome, 0) if name != "high" else {"finished": 1}.get(outcome, 0)
            assert total[(("outcome", outcome), ("queue", name))] == want_n, (name, outcome)
    assert fam["taskctl_jobs"].type == "counter"

    # duration histogram: cumulative buckets, count and sum of the runs that ended
    buckets = samples(fam["taskctl_job_duration_seconds"], "taskctl_job_duration_seconds_bucket")
    runs_n = samples(fam["taskctl_job_duration_seconds"], "taskctl_job_duration_seconds_count")
    sums = samples(fam["taskctl_job_duration_seconds"], "taskctl_job_duration_seconds_sum")
    for name in names:
        runs = known["durations"].get(name, [])
        for bound in (*DURATION_BUCKETS, "+Inf"):
            le = "+Inf" if bound == "+Inf" else repr(float(bound))
            below = sum(1 for r in runs if bound == "+Inf" or r <= float(bound) + 1e-9)
            assert buckets[(("le", le), ("queue", name))] == below, (name, bound)
        assert runs_n[(("queue", name),)] == len(runs)
        assert sums[(("queue", name),)] == pytest.approx(sum(runs), abs=1e-3)

    # oldest queued: the head of `queued` (enqueued 100 s ago was claimed; next: 1 s ago)
    oldest = samples(fam["taskctl_oldest_queued_seconds"])
    scraped_at = time.time()
    assert 1.0 <= oldest[(("queue", "default"),)] <= scraped_at - now + 1.0
    assert oldest[(("queue", "high"),)] == 0 and oldest[(("queue", "low"),)] == 0

    # workers: live records by queue and state (the dead one is not counted)

    records = [w for w in list_workers() if w["name"] != "w-gone"]
    workers = samples(fam["taskctl_workers"])
    for name in names:
        for state in WORKER_STATES:
            n = sum(1 for w in records if name in w["queues"] and w["state"] == state)
            assert workers[(("queue", name), ("state", state))] == n, (name, state)
    assert workers[(("queue", "default"), ("state", "idle"))] == 1
    assert workers[(("queue", "default"), ("state", "suspended"))] == 1
    assert workers[(("queue", "low"), ("state", "busy"))] == 0

    # the leader and the lateness (the job due 20 s ago is the most overdue)
    assert samples(fam["taskctl_scheduler_leader"]) == {(): 1.0}
    late = samples(fam["taskctl_scheduler_lateness_seconds"])[()]
    assert 20.0 <= late <= scraped_at - now + 20.5
    assert samples(fam["taskctl_broker_up"]) == {(("queue", n),): 1.0 for n in names}


def test_counters_survive_and_count_across_scrapes(server: str) -> None:
    """The figures live in the broker: a second registry (another exporter) reports the same."""
    now = time.time()
    finish(get_queue("low"), now, 0.01)
    first = samples(scrape(server)["taskctl_jobs"], "taskctl_jobs_total")

    other = generate_latest(make_registry()).decode()
    again = {f.name: f for f in text_string_to_metric_families(other)}
    assert samples(again["taskctl_jobs"], "taskctl_jobs_total") == first
    assert first[(("outcome", "finished"), ("queue", "low"))] == 1


def test_an_unreachable_broker_is_reported_and_the_others_still_are(
    server: str, settings: Any, key_prefix: str
) -> None:
    conf = dict(settings.SCHEDULER)
    conf["QUEUES"] = {"default": {}, "far": {"BROKER_URL": "redis://127.0.0.1:1/0"}}
    conf["CONNECT_TIMEOUT"] = 1
    settings.SCHEDULER = conf
    reset_config()
    finish(get_queue("default"), time.time(), 0.01)
    fam = scrape(server)
    assert samples(fam["taskctl_broker_up"]) == {(("queue", "default"),): 1.0, (("queue", "far"),): 0.0}
    jobs = samples(fam["taskctl_queue_jobs"])
    assert jobs[(("queue", "default"), ("registry", "finished"))] == 1
    assert not any(dict(k)["queue"] == "far" for k in jobs)  # no figures rather than false zeros
    assert samples(fam["taskctl_scheduler_leader"]) == {(): 0.0}


def test_other_paths_are_404_and_the_root_points_to_metrics(server: str) -> None:
    with urllib.request.urlopen(server + "/", timeout=5) as resp:
        assert b"/metrics" in resp.read()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server + "/nope", timeout=5)
    assert err.value.code == 404


@pytest.fixture
def private_redis() -> Iterator[str]:
    """A private server: its command statistics are ours alone."""
    if SERVER is None:
        pytest.skip("no redis-server binary on PATH")
    server = PrivateRedis()
    yield server.url
    server.stop()


def test_a_scrape_costs_the_same_whatever_the_registry_sizes(
    private_redis: str, settings: Any, key_prefix: str
) -> None:
    """On a private server (its command statistics are ours alone): the same commands, as many
    calls, with 10 jobs or 5,000 a registry, and no command that walks a registry."""
    settings.SCHEDULER = {**settings.SCHEDULER, "BROKER_URL": private_redis}
    reset_config()
    r = redis.Redis.from_url(private_redis)
    add_worker = Heartbeat("w-a", [get_queue("default")], get_config(), get_queue("default").connection)
    add_worker.register(time.time(), 1)

    def calls_of_one_read() -> dict[str, int]:
        r.config_resetstat()
        read(get_config())
        stats = r.info("commandstats")
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}

    def fill(n: int) -> None:
        t = time.time()
        for name in get_config().queues:
            q = get_queue(name)
            q.enqueue_many([JobCall(F) for _ in range(n)], now=t)
            q.enqueue_many([JobCall(F, at=t + 3600) for _ in range(n)], now=t)
            for _ in range(n // 2):
                job = lifecycle.claim(q, "w-a", now=t)
                assert job is not None
                lifecycle.complete(q, job, Outcome(JobStatus.FINISHED, {}), worker="w-a", now=t)

    fill(10)
    read(get_config())  # connects (HELLO, PING): not part of a scrape's cost
    small = calls_of_one_read()
    fill(5_000)
    assert get_queue("default").counts()["finished"] == 2_505
    large = calls_of_one_read()
    for calls in (small, large):
        calls.pop("config|resetstat", None)
    assert small == large, (small, large)
    allowed = {
        "zcard",
        "llen",
        "zcount",
        "lindex",
        "zrange",
        "hgetall",
        "zrangebyscore",
        "get",
        "hget",
        "hmget",
    }
    assert set(large) <= allowed, set(large) - allowed
