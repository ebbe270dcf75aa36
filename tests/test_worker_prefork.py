"""What an execution process would otherwise build after the fork is built before it, in the
supervisor, so its pages are shared (benchmarks/run.py idle_memory measures the effect): its
links, and their connections, opened by the supervisor and handed over at the fork."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues.queue import get_queue
from scheduler_core.worker import executor as executor_module
from scheduler_core.worker import forking
from scheduler_core.worker.executor import Executor
from scheduler_core.worker.slots import Slots
from tests.processes import WorkerProc, status_of, wait_for


def _executor() -> Executor:
    queues = [get_queue("high"), get_queue("default")]  # one broker: one link for both
    return Executor(index=0, queues=queues, worker="w", slots=Slots(1), budget=None, burst=True,
                    callback_timeout=5.0, supervisor_pid=os.getpid())  # fmt: skip


def test_an_executor_holds_its_links_before_the_fork_unconnected() -> None:
    ex = _executor()
    queues = ex.queues
    assert list(ex.links) == [id(queues[0].connection)]
    link = ex.links[id(queues[0].connection)]
    assert getattr(link.conn, "_sock", None) is None  # connected only when the supervisor forks it
    assert ex._link(queues[1]) is link


def test_a_connection_made_ahead_is_let_go_without_cutting_the_owners_copy() -> None:
    ex = _executor()
    assert ex.connect_ahead()
    link = next(iter(ex.links.values()))
    sock: socket.socket = getattr(link.conn, "_sock")  # noqa: B009  # redis-py types it as None
    owners_copy = os.dup(sock.fileno())  # what the forked process holds
    ex.let_go()
    assert link.conn._sock is None and not link.ready
    with socket.socket(fileno=owners_copy) as copy:  # no shutdown: the owner's copy still talks
        copy.settimeout(5)
        copy.sendall(b"PING\r\n")
        assert b"PONG" in copy.recv(64)


def test_let_go_of_a_link_never_connected_is_harmless() -> None:
    ex = _executor()
    ex.let_go()
    assert not next(iter(ex.links.values())).ready


def test_the_death_signal_call_is_looked_up_once_at_import() -> None:
    assert executor_module._PRCTL is not None  # Linux: libc's prctl, found in the supervisor


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _sockets(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def _each_holds_only_its_own(pid: int, concurrency: int) -> bool:
    kids = _children(pid)
    if len(kids) != concurrency:
        return False
    supervisors = _sockets(pid)  # its own clients' (heartbeat, commands), inherited by every child
    held = [_sockets(k) - supervisors for k in kids]
    every = [s for h in held for s in h]
    return all(held) and len(every) == len(set(every))


@pytest.mark.process
def test_execution_processes_forked_in_one_burst_each_hold_only_their_own_connection(
    worker: WorkerProc,
) -> None:
    proc = worker.start("--concurrency", "3")
    wait_for(lambda: _each_holds_only_its_own(proc.pid, 3), 15, "each process with its own socket")
    q = get_queue("default")
    jobs = [q.enqueue("tests.jobs.noop") for _ in range(30)]
    wait_for(lambda: all(status_of(q, job) is JobStatus.FINISHED for job in jobs), 20, "30 jobs")
    assert _each_holds_only_its_own(proc.pid, 3)


def test_a_fork_that_fails_mid_burst_keeps_the_pids_of_those_started(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fork = os.fork
    calls = []

    def fork_twice_then_fail() -> int:
        calls.append(1)
        if len(calls) > 2:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real_fork()

    monkeypatch.setattr(os, "fork", fork_twice_then_fail)
    pids = forking.fork_all([(lambda: 0, "test process")] * 4)
    assert len(pids) == 2
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids] == [0, 0]


def test_a_burst_whose_first_fork_fails_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", fail)
    with pytest.raises(OSError):
        forking.fork_all([(lambda: 0, "test process")] * 2)
