"""One execution process: claim a job, run it, record the outcome and claim the next, repeat.

In the steady state a job costs one broker round trip: `lifecycle.complete(..., claim_next=True)`
records the outcome and claims the next job from the same queue in one Lua call. An idle process
blocks on the queues' signal lists (push-based pick-up) and then claims in priority order.
The process reports its current job through its shared-memory slot (slots.py), never over a
socket, so the supervisor can renew leases and enforce hard timeouts at no per-job cost.

`loop()` calls `step()` until it returns an exit code; `step()` is one turn (claim, or wait, or
run and record the held job), so tests drive an executor in-process, job by job.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import Any, TypeVar, cast

from scheduler_core.jobs import failure
from scheduler_core.jobs.record import Job, JobStatus
from scheduler_core.queues import lifecycle
from scheduler_core.queues.lifecycle import Outcome
from scheduler_core.queues.queue import Queue
from scheduler_core.worker import logs, outage, running, timeouts
from scheduler_core.worker.clock import SYSTEM, Clock
from scheduler_core.worker.link import Link, link_for
from scheduler_core.worker.running import AfterWork, Callables
from scheduler_core.worker.slots import RUN, STOP, SUSPEND, Slots

log = logging.getLogger("taskctl.worker")

IDLE_WAIT = 5.0  # seconds an idle process blocks before it looks around again
_T = TypeVar("_T")


class _Wake(BaseException):
    """Raised by SIGUSR1 while idle: the supervisor changed the mode (stop, suspend, resume)."""


class Budget:
    """The --max-jobs budget shared by the execution processes (a process-shared counter)."""

    def __init__(self, total: int) -> None:
        self.value = multiprocessing.get_context("fork").Value("q", total)

    def take(self) -> bool:
        with self.value.get_lock():
            if self.value.value <= 0:
                return False
            self.value.value -= 1
            return True

    def give_back(self) -> None:
        with self.value.get_lock():
            self.value.value += 1

    @property
    def left(self) -> int:
        return int(self.value.value)


def _find_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return cast("Callable[..., int]", ctypes.CDLL(None, use_errno=True).prctl)
    except (OSError, AttributeError):
        return None


# looked up once, at import in the supervisor: a lookup in each child would be its own memory
_PRCTL = _find_prctl()


def set_parent_death_signal() -> None:
    """Linux: die with the supervisor (PR_SET_PDEATHSIG = 1), even when it is SIGKILLed."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL, 0, 0, 0)


class Executor:
    def __init__(
        self,
        *,
        index: int,
        queues: Sequence[Queue],
        worker: str,
        slots: Slots,
        budget: Budget | None,
        burst: bool,
        callback_timeout: float,
        supervisor_pid: int,
        clock: Clock = SYSTEM,
    ) -> None:
        self.index = index
        self.queues = list(queues)
        self.worker = worker
        self.slots = slots
        self.slot = slots.writer(index)
        self.budget = budget
        self.burst = burst
        self.callback_timeout = callback_timeout
        self.supervisor_pid = supervisor_pid
        self.callables = Callables(queues[0].config.allowed_callables)
        self.links: dict[int, Link] = {}  # one dedicated connection per broker client
        self.interruptible = False
        self.log_jobs = log.isEnabledFor(logging.INFO)
        self.clock = clock
        self.job: Job | None = None  # claimed and not yet recorded
        self.qi = 0  # the index of its queue
        self.trouble = ""  # the broker fault being ridden out ("": none)
        self.max_result_bytes = queues[0].config.max_result_bytes
        for q in self.queues:  # built here, before the fork: the child only connects them
            self._link(q)

    # ----- process setup -----
    def _setup(self) -> None:
        set_parent_death_signal()
        if os.getppid() != self.supervisor_pid:
            os._exit(1)  # the supervisor died before prctl took effect
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor handles Ctrl-C and SIGTERM
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, self._on_wake)
        timeouts.install()
        random.seed()

    def _on_wake(self, signum: int, frame: FrameType | None) -> None:
        if self.interruptible:
            raise _Wake()

    def connect_ahead(self) -> bool:
        """In the supervisor, before the fork: open this process's broker connections (False
        when the broker did not answer; the process then connects itself)."""
        return all(link.connect_ahead() for link in self.links.values())

    def let_go(self) -> None:
        """In the supervisor, after the fork: close its copies of this process's connections."""
        for link in self.links.values():
            link.let_go()

    def socket_fds(self) -> list[int]:
        """The descriptors of the connections opened ahead (the siblings close them after the fork)."""
        return [fd for link in self.links.values() for fd in link.socket_fds()]

    def main(self, after_work: Sequence[AfterWork] = (), siblings_fds: Sequence[int] = ()) -> int:
        """Run until told to stop, drained (--burst) or out of budget (--max-jobs); returns 0 then.
        `siblings_fds`: the sockets of the processes forked in the same burst, inherited here.
        They are closed by number: closing them through their objects would copy those objects'
        pages, for every sibling, in every process; the objects stay unused (they belong to the
        supervisor's frame, which this process never returns to)."""
        for fd in siblings_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._setup()
        for work in after_work:
            self._after(0, work)
        return self.loop()

    def finalize(self, after_work: Sequence[AfterWork]) -> int:
        """The short-lived process of a shutdown: the callbacks of jobs the supervisor recorded."""
        self._setup()
        for work in after_work:
            self._after(0, work)
        return 0

    # ----- the loop -----
    def loop(self) -> int:
        while (code := self.step()) is None:
            pass
        return code

    def step(self) -> int | None:
        """One turn: with no job held, claim one (or pause, or wait for work); then run the held
        job and record it (which may claim the next). Returns the exit code once done."""
        if self.job is None:
            mode = self.slots.mode
            if mode == STOP:
                return 0
            if mode == SUSPEND:
                self._pause()
                return None
            if self.budget is not None and not self.budget.take():
                return 0
            got = self._broker(self._claim)
            if got is None:
                if self.budget is not None:
                    self.budget.give_back()
                if self.burst:
                    return None if self._broker(self._promote) else 0
                self._wait()
                return None
            self.qi, self.job = got
        self.qi, self.job = self._process(self.qi, self.job)
        return None

    def _claim(self) -> tuple[int, Job] | None:
        for i, q in enumerate(self.queues):
            job = lifecycle.claim(q, self.worker, client=self._link(q))
            if job is not None:
                return i, job
        return None

    def _link(self, queue: Queue) -> Link:
        client = queue.connection
        link = self.links.get(id(client))
        if link is None:
            link = self.links[id(client)] = link_for(client)
        return link

    def _promote(self) -> int:
        return sum(q.promote_due() for q in self.queues)

    def _wait(self) -> None:
        logs.flush()  # going idle: the log is complete while nothing happens
        self.interruptible = True  # before the mode check: a wake-up can't slip in between
        try:
            if self.slots.mode == RUN:
                link = self._link(self.queues[0])
                self._broker(lambda: lifecycle.wait_for_work(self.queues, IDLE_WAIT, client=link))
        except _Wake:
            pass
        finally:
            self.interruptible = False

    def _pause(self) -> None:
        logs.flush()
        self.interruptible = True
        try:
            while self.slots.mode == SUSPEND:
                time.sleep(1.0)
        except _Wake:
            pass
        finally:
            self.interruptible = False

    def _broker(self, fn: Callable[[], _T]) -> _T:
        """Call `fn`, riding out a broker outage (logged once) until the supervisor says stop."""
        failures = 0
        while True:
            try:
                value = fn()
            except Exception as exc:
                if not outage.is_outage(exc):
                    raise
                self.trouble = outage.changed(log, self.trouble, "broker", exc)
                failures += 1
                if self.slots.mode == STOP and failures > 3:
                    raise
                time.sleep(min(0.1 * 2**failures, 2.0))
            else:
                if self.trouble:
                    self.trouble = outage.changed(log, self.trouble, "broker", None)
                return value

    # ----- one job -----
    def _process(self, qi: int, job: Job) -> tuple[int, Job | None]:
        queue = self.queues[qi]
        started = self.clock.mono()
        # the slot holds the claim's start time: the supervisor fences its own records with it
        claimed = job.started_at.timestamp() if job.started_at else self.clock.wall()
        self.slot.begin(qi, job.id, claimed, timeouts.hard_deadline(started, job.timeout))
        ran = running.run(self.callables, job, self.max_result_bytes)
        ended = self.clock.mono()
        delay = None if ran.ok or ran.exc is None else failure.retry_in(job, ran.exc)
        if delay is not None:
            self._broker(lambda: lifecycle.retry_later(queue, job, delay, ran.fields))
            self.slot.end(False)
            if self.log_jobs:
                self._log(
                    job, "retrying", ended - started, ran, f" (attempt {job.attempt}, next in {delay:g}s)"
                )
            return 0, None
        status = JobStatus.FINISHED if ran.ok else JobStatus.FAILED
        work: AfterWork | None = None
        if job.task_id is not None or (job.on_success if ran.ok else job.on_failure):
            f = ran.fields
            work = AfterWork(
                job,
                status,
                ran.result,
                f.get("exc_type", ""),
                f.get("exc_message", ""),
                f.get("traceback", ""),
            )
            self._callback(work)
        want_next = qi == 0 and self.slots.mode == RUN and (self.budget is None or self.budget.take())
        recorded, nxt = self._complete(queue, job, Outcome(status, ran.fields), want_next)
        if want_next and nxt is None and self.budget is not None:
            self.budget.give_back()
        self.slot.end(ran.ok)
        if self.log_jobs:
            self._log(
                job,
                status.value,
                ended - started,
                ran,
                "" if recorded else " (not recorded: no longer active)",
            )
        if work is not None and recorded and job.task_id is not None:
            job.ended_at = datetime.fromtimestamp(self.clock.wall(), UTC)
            running.record_task_run(work)
        return 0, nxt

    def _complete(
        self, queue: Queue, job: Job, outcome: Outcome, claim_next: bool
    ) -> tuple[bool, Job | None]:
        first = True

        def attempt() -> tuple[bool, Job | None]:
            nonlocal first
            # after a failed round trip, don't claim: a lost reply would strand the claimed job
            nxt = claim_next and first
            first = False
            return lifecycle.complete(
                queue, job, outcome, worker=self.worker, claim_next=nxt, client=self._link(queue)
            )

        return self._broker(attempt)

    def _callback(self, work: AfterWork) -> None:
        path, _ = work.callback
        if path:
            self.slot.extend(timeouts.hard_deadline(self.clock.mono(), self.callback_timeout))
            running.run_callback(work, self.callables, self.callback_timeout)

    def _after(self, qi: int, work: AfterWork) -> None:
        """Callbacks and task bookkeeping of a job the supervisor recorded (hard timeout, stop)."""
        self.slot.begin(qi, work.job.id, self.clock.wall(),
                        timeouts.hard_deadline(self.clock.mono(), self.callback_timeout))  # fmt: skip
        running.run_callback(work, self.callables, self.callback_timeout)
        if work.job.task_id is not None:
            running.record_task_run(work)
        self.slot.end(None)

    def _log(self, job: Job, outcome: str, duration: float, ran: running.Ran, note: str = "") -> None:
        """One INFO line per job: id, callable, outcome, duration (and the error, if any)."""
        extra: dict[str, Any] = {
            "job_id": job.id, "queue": job.queue, "callable": job.callable, "outcome": outcome,
            "duration": round(duration, 6),
        }  # fmt: skip
        if ran.ok:
            log.info("job %s %s: %s in %.3fs%s", job.id, job.callable, outcome, duration, note, extra=extra)
        else:
            f = ran.fields
            extra["exc_type"] = f["exc_type"]
            log.info("job %s %s: %s in %.3fs%s: %s: %s", job.id, job.callable, outcome, duration, note,
                     f["exc_type"], f["exc_message"], extra=extra)  # fmt: skip
