"""Redis Cluster end to end: six nodes (three masters, three replicas) started here; four queues
over the three masters, two workers and the scheduler through a `redis+cluster://` URL, and a
`CLUSTER FAILOVER` of a master in the middle of the drain."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler_core.broker import oneshot
from scheduler_core.broker.connection import connect
from scheduler_core.jobs.record import Retry
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.worker.link import ClusterLink, link_for
from tests.engines.conftest import EngineWorkers, configure, finished, needs_servers, run_counts
from tests.engines.servers import ClusterSetup, server_version, slot_of
from tests.processes import runs as runs_of
from tests.processes import wait_for

pytestmark = [
    pytest.mark.engines,
    needs_servers,
    pytest.mark.skipif(server_version() < (7,), reason="sharded pub/sub needs Redis 7"),
]
QUEUES = ["q0", "q1", "q2", "q3"]  # slots 3387, 7450, 11641, 15704: one, one and two per master
N = 400  # jobs per drain


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterSetup]:
    setup = ClusterSetup()
    yield setup
    setup.stop()


def drained(prefix: str) -> bool:
    left = counts_now()
    return min(job_runs(prefix)) >= 1 and all(c["queued"] == c["active"] == 0 for c in left.values())


def counts_now() -> dict[str, dict[str, int]]:
    return {q: get_queue(q).counts() for q in QUEUES}


def job_runs(prefix: str) -> list[int]:
    return run_counts(prefix, (f"{q}-{i}" for q in QUEUES for i in range(N // len(QUEUES))))


def test_four_queues_over_three_masters_across_a_failover(
    cluster: ClusterSetup, key_prefix: str, tmp_path: Path, settings: Any
) -> None:
    masters = {cluster.master_of(slot_of(q)) for q in QUEUES}
    assert len(masters) == 3, "the four queues should spread over all three masters"
    configure(settings, cluster.url, QUEUES)
    workers = EngineWorkers(key_prefix, tmp_path, cluster.url, QUEUES, db=f"sqlite:///{tmp_path}/s.sqlite3")
    assert workers.taskctl("db", "migrate").returncode == 0
    (tmp_path / "tasks.yaml").write_text(
        "version: 1\nset: engines\ntasks:\n  - name: tick\n    type: repeatable\n"
        "    callable: tests.jobs.record\n    args: [tick]\n    queue: q3\n    interval: 1s\n"
    )
    applied = workers.taskctl("tasks", "apply", "-f", str(tmp_path / "tasks.yaml"))
    assert applied.returncode == 0, applied.stderr
    try:
        for qname in QUEUES:
            calls = [
                JobCall("tests.jobs.record", (f"{qname}-{i}", 0.02), retry=Retry(3))
                for i in range(N // len(QUEUES))
            ]
            get_queue(qname).enqueue_many(calls)
        a = workers.start("-c", "2", "--with-scheduler", *QUEUES, name=f"a-{key_prefix}")
        workers.start("-c", "2", *QUEUES, name=f"b-{key_prefix}")
        wait_for(lambda: finished(QUEUES) >= N // 4, 30, "a quarter of the drain")
        assert finished(QUEUES) < N, "the drain ended before the failover: make the jobs longer"
        # the master of the cross-queue slot (worker records, commands, leader lock): it holds
        # a queue too, since every master does
        old = cluster.master_of(slot_of(key_prefix))
        new = cluster.failover(old)
        assert cluster.master_of(slot_of(key_prefix)) == new
        try:
            wait_for(lambda: drained(key_prefix), 60, "the drain to end after the failover")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {counts_now()}") from None

        counts = job_runs(key_prefix)
        assert min(counts) >= 1, f"{counts.count(0)} jobs never ran"
        assert sum(counts) - N <= 8, f"{sum(counts) - N} duplicates"  # at least once
        for qname in QUEUES:
            left = get_queue(qname).counts()
            assert left["queued"] == left["active"] == left["failed"] == 0, (qname, left)
        wait_for(lambda: runs_of("tick") >= 2, 30, "the scheduler's task to run twice")

        # the CLI's one-shot client follows MOVED to every master; no SORT ... GET on a Cluster
        shown = workers.taskctl("queues", "show", "-o", "json")
        assert shown.returncode == 0, shown.stderr
        rows = {r["name"]: r for r in json.loads(shown.stdout)["queues"]}
        assert [rows[q]["finished"] for q in QUEUES[:3]] == [N // 4] * 3
        assert rows["q3"]["finished"] >= N // 4 + 2  # and the task's runs
        assert [rows[q]["workers"] for q in QUEUES] == [2, 2, 2, 2], rows
        assert workers.taskctl("jobs", "list", "q1", "-r", "finished", "-o", "json").returncode == 0

        # the sharded commands channel moved with its slot: a warm stop still reaches the worker
        stop = workers.taskctl("workers", "stop", f"a-{key_prefix}")
        assert stop.returncode == 0, stop.stderr
        assert a.wait(20) == 0, workers.stderr()
    finally:
        workers.stop_all()


def test_plain_url_to_a_cluster_node_is_one_line(
    cluster: ClusterSetup, key_prefix: str, tmp_path: Path
) -> None:
    plain = f"redis://127.0.0.1:{cluster.ports[0]}/0"
    workers = EngineWorkers(key_prefix, tmp_path, plain, QUEUES)
    for argv in (("queues", "show"), ("worker", "start", "--burst")):
        out = workers.taskctl(*argv)
        assert out.returncode == 78, out.stderr
        assert "is a Redis Cluster node: use a redis+cluster://" in out.stderr
        assert "Traceback" not in out.stderr


def test_ask_during_a_slot_migration(cluster: ClusterSetup, key_prefix: str) -> None:
    """A slot half-way to another master: a key not on the old one yet is asked for on the new one
    (ASK, then ASKING before the command), by the execution processes' link and the one-shot client."""

    queue = "moving"
    slot = slot_of(queue)
    source = cluster.master_of(slot)
    target = next(p for p in cluster.masters() if p != source)
    ids = {n["port"]: n["id"] for n in cluster._nodes()}
    src, dst = cluster.direct(source), cluster.direct(target)
    here, there = f"{key_prefix}:{{{queue}}}:here", f"{key_prefix}:{{{queue}}}:there"
    src.set(here, "old master")  # stays on the source during the migration: served there
    dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source])
    src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target])
    try:
        dst.execute_command("ASKING")
        dst.set(there, "new master")  # moved already: the source answers ASK for it
        client = connect(cluster.url)
        link = link_for(client)
        assert isinstance(link, ClusterLink)
        via: Any = link  # duck-typed: what redis-py's Script calls
        get = client.register_script("return redis.call('GET', KEYS[1])")
        assert get(keys=[here], client=via) == "old master"
        assert get(keys=[there], client=via) == "new master"  # NOSCRIPT there, loaded, asked again
        assert get(keys=[there], client=via) == "new master"
        assert oneshot.execute(cluster.url, [("GET", here), ("GET", there), ("GET", here)]) == [
            "old master", "new master", "old master"
        ]  # fmt: skip
        link.close()
        client.close()
    finally:
        src.delete(here)
        dst.execute_command("ASKING")
        dst.delete(there)
        for node in (src, dst):
            node.execute_command("CLUSTER", "SETSLOT", slot, "STABLE")


def test_tls_cluster(key_prefix: str, tmp_path: Path, settings: Any) -> None:
    """`rediss+cluster://`: TLS to every node (and between them); a burst worker drains four
    queues, and `queues show` reads them through redis-py's Cluster pipeline."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate")
    tls = ClusterSetup(tls=True)
    try:
        configure(settings, tls.url, QUEUES)
        for qname in QUEUES:
            get_queue(qname).enqueue_many(
                [JobCall("tests.jobs.record", (f"tls-{qname}",)) for _ in range(50)]
            )
        workers = EngineWorkers(key_prefix, tmp_path, tls.url, QUEUES)
        burst = workers.start("--burst", "-c", "2", *QUEUES, wait=False)
        assert burst.wait(60) == 0, workers.stderr()
        assert [runs_of(f"tls-{q}") for q in QUEUES] == [50] * 4
        shown = workers.taskctl("queues", "show", "-o", "json")
        assert shown.returncode == 0, shown.stderr
        rows = {r["name"]: r for r in json.loads(shown.stdout)["queues"]}
        assert [rows[q]["finished"] for q in QUEUES] == [50] * 4
    finally:
        tls.stop()
