"""What an execution process would otherwise build after the fork is built before it, in the
supervisor, so its pages are shared (benchmarks/run.py idle_memory measures the effect)."""

from __future__ import annotations

import os

from scheduler_core.queues.queue import get_queue
from scheduler_core.worker import executor as executor_module
from scheduler_core.worker.executor import Executor
from scheduler_core.worker.slots import Slots


def test_an_executor_holds_its_links_before_the_fork_unconnected() -> None:
    queues = [get_queue("high"), get_queue("default")]  # one broker: one link for both
    ex = Executor(index=0, queues=queues, worker="w", slots=Slots(1), budget=None, burst=True,
                  callback_timeout=5.0, supervisor_pid=os.getpid())  # fmt: skip
    assert list(ex.links) == [id(queues[0].connection)]
    link = ex.links[id(queues[0].connection)]
    assert getattr(link.conn, "_sock", None) is None  # the child connects it: no socket crosses a fork
    assert ex._link(queues[1]) is link


def test_the_death_signal_call_is_looked_up_once_at_import() -> None:
    assert executor_module._PRCTL is not None  # Linux: libc's prctl, found in the supervisor
