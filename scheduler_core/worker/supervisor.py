"""The supervisor: the process tree of one worker.

It forks `--concurrency` execution processes (executor.py) and restarts them when they die,
kills one whose job passes its hard deadline (recording the job as timed out), runs the
heartbeat, the commands listener thread and the scheduler subprocess, and turns SIGTERM/SIGINT
into a warm shutdown (first) or a cold one (second). User code never runs here: callbacks of
jobs recorded by the supervisor run in the next execution process (or a short-lived one).

`run()` sets up and then calls `tick()` until it returns False, sleeping in between. `tick()`
is one look at everything, read against the injected clock; with `start_child` injected too,
tests step a supervisor in-process (hard timeouts, fencing, idle exit) with no real worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue as queue_module
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from scheduler_core.broker.connection import check, get_client
from scheduler_core.checks import open_callables_warning
from scheduler_core.conf import get_config
from scheduler_core.jobs import failure
from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues import lifecycle
from scheduler_core.queues.lifecycle import Outcome
from scheduler_core.queues.queue import Queue, get_queue
from scheduler_core.worker import forking, logs, outage, timeouts
from scheduler_core.worker.clock import SYSTEM, Clock
from scheduler_core.worker.commands import Listener
from scheduler_core.worker.executor import Budget, Executor
from scheduler_core.worker.heartbeat import Heartbeat, default_name
from scheduler_core.worker.options import WorkerOptions
from scheduler_core.worker.pidfile import PidFile
from scheduler_core.worker.running import AfterWork, failure_fields
from scheduler_core.worker.scheduler_proc import SchedulerProcess
from scheduler_core.worker.slots import RUN, STOP, SUSPEND, Slots

log = logging.getLogger("taskctl.worker")

_TICK = 0.5  # seconds the supervisor sleeps at most between looks at its processes
_COLD_IDLE_GRACE = 2.0  # seconds an idle execution process gets to exit in a cold shutdown


@dataclass
class Child:
    pid: int
    started: float  # monotonic


# starts the process of slot `index`, which first runs the given follow-up work; returns its pid
# (injected by tests; a worker forks its execution processes in bursts, _fork_executors)
StartChild = Callable[[int, list[AfterWork]], int]


class Supervisor:
    def __init__(
        self, options: WorkerOptions, *, clock: Clock = SYSTEM, start_child: StartChild | None = None
    ) -> None:
        self.options = options
        self.clock = clock
        self.start_child = start_child
        self.start_children = self._fork_executors if start_child is None else self._start_one_by_one
        self.config = get_config()
        names = options.queues or list(self.config.queues)
        self.queues: list[Queue] = [get_queue(n) for n in dict.fromkeys(names)]  # UnknownQueue: exit 3
        self.name = options.name or default_name()
        self.concurrency = max(1, options.concurrency)
        self.slots = Slots(self.concurrency)
        self.budget = Budget(options.max_jobs) if options.max_jobs is not None else None
        self.children: dict[int, Child] = {}  # slot index -> process
        self.retired: set[int] = set()  # slots whose process exited 0 (drained, budget, stop)
        self.restart_at: dict[int, float] = {}
        self.after_work: list[AfterWork] = []
        self.commands: queue_module.SimpleQueue[dict[str, Any]] = queue_module.SimpleQueue()
        self.signals = 0
        self.cold = False
        self.cold_since = 0.0
        self.extra_failed = 0  # jobs recorded failed here (hard timeouts, stops, lost processes)
        self.last_busy = clock.mono()
        self.next_beat = 0.0
        self.handled_signals = 0
        self.pid = os.getpid()
        self.registered = False
        self.heartbeat: Heartbeat | None = None
        self.listener: Listener | None = None
        self.scheduler: SchedulerProcess | None = None
        self.beat_trouble = ""  # what the last heartbeat failed with ("": it worked)

    # ----- start and stop -----
    def run(self) -> int:
        cfg = self.config
        for url in dict.fromkeys([cfg.broker_url] + [q.broker_url for q in self.queues]):
            check(url, cfg.connect_timeout)  # BrokerUnavailable: exit 69
        pid_file = PidFile(self.options.pid_file) if self.options.pid_file else None
        if pid_file:
            pid_file.acquire()  # Conflict: exit 4
        try:
            client = get_client(cfg.broker_url, cfg.connect_timeout)
            self.heartbeat = Heartbeat(self.name, self.queues, cfg, client, server_clock=True)
            channel = self.heartbeat.keys.commands
            self.listener = Listener(cfg.broker_url, cfg.connect_timeout, channel, self.name, self._deliver)
            self.listener.start()
            self.listener.ready.wait(cfg.connect_timeout + 1)
            self.heartbeat.register(self.clock.wall(), self.concurrency)  # Conflict: exit 4
            self.registered = True
            self._install_signals()
            names = ", ".join(q.name for q in self.queues)
            log.info("worker %s started: queues %s, concurrency %d%s", self.name, names,
                     self.concurrency, ", burst" if self.options.burst else "",
                     extra={"worker": self.name, "queues": [q.name for q in self.queues]})  # fmt: skip
            if (open_callables := open_callables_warning()) is not None:
                log.warning("%s", open_callables)  # once started: start-up errors stay one line
            for q in self.queues:
                q.scripts  # noqa: B018  # the Lua sources, read once here and shared by every child
            self.scheduler = SchedulerProcess() if self.options.with_scheduler else None
            if self.scheduler:
                self.scheduler.start(self.clock.mono())
            self._spawn(list(range(self.concurrency)))
            while self.tick():
                self._sleep()
        finally:
            self._shutdown()
            if pid_file:
                pid_file.release()
        return 0

    def _shutdown(self) -> None:
        for i in list(self.children):
            self._kill(i, JobStatus.STOPPED, "worker shut down")
        if self.after_work:
            self._finalize()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.listener is not None:
            self.listener.stop()
        if self.heartbeat is None or not self.registered:
            return  # never started: another worker's record with this name is not ours to remove
        try:
            self.heartbeat.unregister()
        except Exception as exc:
            log.warning("could not remove the worker record: %s", exc)
        log.info("worker %s stopped", self.name, extra={"worker": self.name})
        logs.flush()

    def _install_signals(self) -> None:
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGCHLD, lambda s, f: None)  # wakes the loop through the wakeup fd

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1

    def _deliver(self, msg: dict[str, Any]) -> None:  # listener thread
        self.commands.put(msg)
        with contextlib.suppress(BlockingIOError, AttributeError):
            os.write(self.wake_w, b"c")

    # ----- the loop -----
    def tick(self) -> bool:
        """One look at signals, commands, processes, deadlines, heartbeat and idleness.
        Returns False once the worker is done (stopped, or every process retired)."""
        now = self.clock.mono()
        if self.signals > self.handled_signals:
            self.handled_signals = self.signals
            self._stop(cold=self.handled_signals > 1)
        while not self.commands.empty():
            self._command(self.commands.get())
        self._collect_children(now)
        self._enforce(now)
        if now >= self.next_beat:
            self._beat()
            self.next_beat = now + self.config.heartbeat_interval
        self._check_idle(now)
        if self.scheduler is not None and self.slots.mode != STOP:
            self.scheduler.poll(now)
        self._respawn(now)
        return bool(self.children) or not (self.slots.mode == STOP or len(self.retired) == self.concurrency)

    def _sleep(self) -> None:
        """Until the next tick is due: a signal, a command or a child's exit wakes it early."""
        logs.flush()
        try:
            timeout = min(_TICK, self.next_beat - self.clock.mono())
            select.select([self.wake_r], [], [], max(0.0, timeout))
            while os.read(self.wake_r, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _stop(self, *, cold: bool) -> None:
        if cold and not self.cold:
            log.warning("cold shutdown: stopping the running jobs now")
            self.cold, self.cold_since = True, self.clock.mono()
        elif not cold and self.slots.mode != STOP:
            log.info("warm shutdown: finishing the running jobs (signal again to stop them now)")
        self.slots.mode = STOP
        self._signal_children()
        if self.scheduler is not None:
            self.scheduler.stop()

    def _signal_children(self) -> None:
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGUSR1)

    def _command(self, msg: dict[str, Any]) -> None:
        command = msg["command"]
        log.info("command received: %s%s", command, f" {msg['job_id']}" if msg.get("job_id") else "",
                 extra={"command": command})  # fmt: skip
        if command == "shutdown":
            self._stop(cold=False)
        elif command == "shutdown-now":
            self._stop(cold=True)
        elif command == "suspend" and self.slots.mode == RUN:
            self.slots.mode = SUSPEND
            self._signal_children()
        elif command == "resume" and self.slots.mode == SUSPEND:
            self.slots.mode = RUN
            self._signal_children()
        elif command == "stop-job":
            for i in list(self.children):
                view = self.slots.read(i)
                if view.busy and view.job_id == msg.get("job_id"):
                    self._kill(i, JobStatus.STOPPED, "stopped by command")
                    break
            else:
                log.info("stop-job %s: not running here", msg.get("job_id"))

    # ----- execution processes -----
    def _executor(self, index: int, *, burst: bool, budget: Budget | None) -> Executor:
        return Executor(index=index, queues=self.queues, worker=self.name, slots=self.slots,
                        budget=budget, burst=burst,
                        callback_timeout=self.options.callback_timeout,
                        supervisor_pid=self.pid)  # fmt: skip

    def _fork_executors(self, batch: list[tuple[int, list[AfterWork]]]) -> list[int]:
        """Fork the execution processes of a batch of slots in one burst, each with its broker
        connection already open (so connecting costs no process its own copy of the pages that
        code touches; measured: 1 MiB a process). Not while the heartbeat finds the broker
        down (the connects would hold up this loop; each process connects itself then), and no
        further after one failed connect in a burst."""
        burst, budget = self.options.burst, self.budget
        executors = [self._executor(i, burst=burst, budget=budget) for i, _ in batch]
        if not self.beat_trouble:
            for ex in executors:
                if not ex.connect_ahead():
                    break
        fds = [ex.socket_fds() for ex in executors]

        def child(k: int) -> Callable[[], int]:
            theirs = [fd for j, own in enumerate(fds) if j != k for fd in own]
            return lambda: executors[k].main(batch[k][1], siblings_fds=theirs)

        try:
            return forking.fork_all([(child(k), "execution process") for k in range(len(batch))])
        except OSError as exc:  # not one forked (no memory, no processes left): try again later
            log.error("could not fork the execution process: %s", exc)
            return []
        finally:
            for ex in executors:
                ex.let_go()

    def _start_one_by_one(self, batch: list[tuple[int, list[AfterWork]]]) -> list[int]:
        assert self.start_child is not None
        return [self.start_child(i, after) for i, after in batch]

    def _spawn(self, indexes: list[int]) -> None:
        """Start the processes of these slots; the first one runs the pending follow-up work.
        A slot whose fork failed is tried again a second later, as one whose process died at once."""
        if not indexes:
            return
        after, self.after_work = self.after_work, []
        batch = [(i, after if n == 0 else []) for n, i in enumerate(indexes)]
        pids = self.start_children(batch)
        now = self.clock.mono()
        for i, pid in zip(indexes, pids, strict=False):
            self.children[i] = Child(pid, now)
        for i in indexes[len(pids) :]:
            self.restart_at[i] = now + 1.0
        if not pids:
            self.after_work[:0] = after  # nobody started to run it: the next process will

    def _collect_children(self, now: float) -> None:
        for index, child in list(self.children.items()):
            try:
                pid, status = os.waitpid(child.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = child.pid, 0
            if pid == 0:
                continue
            del self.children[index]
            code = os.waitstatus_to_exitcode(status)
            if code == 0:
                self.retired.add(index)
                continue
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            log.error("execution process %d died (%s)", child.pid, how)
            self._record(index, JobStatus.FAILED, timeouts.WorkerLost(f"execution process died ({how})"))
            quick = now - child.started < 1.0
            self.restart_at[index] = now + (1.0 if quick else 0.0)

    def _respawn(self, now: float) -> None:
        if self.slots.mode == STOP:
            return
        due = [
            i for i in range(self.concurrency)
            if i not in self.children and i not in self.retired and self.restart_at.get(i, 0.0) <= now
        ]  # fmt: skip
        for index in due:
            self.restart_at.pop(index, None)
        self._spawn(due)

    def _kill(self, index: int, status: JobStatus, reason: str) -> None:
        """Kill an execution process now and record its job (if any) as `status`."""
        child = self.children.pop(index, None)
        if child is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
        os.waitpid(child.pid, 0)
        exc: BaseException = (
            timeouts.JobStopped(reason) if status is JobStatus.STOPPED else timeouts.JobTimeout(reason)
        )
        self._record(index, status, exc)

    def _record(self, index: int, status: JobStatus, exc: BaseException) -> None:
        """Record the job of a dead execution process: failed / stopped, or retried while it may."""
        view = self.slots.read(index)
        self.slots.reset(index)
        if not view.busy:
            return
        queue = self.queues[view.queue_index]
        try:
            job = queue.fetch_job(view.job_id)
            if job is None or job.status is not JobStatus.ACTIVE or job.worker != self.name:
                return  # its outcome was recorded already (or it is a callback run: nothing to record)
            if job.started_at is None or abs(job.started_at.timestamp() - view.started) > 0.001:
                return  # the job was recovered and runs again (another claim): not this process's run
            fields = failure_fields(exc)
            self.extra_failed += 1
            delay = failure.retry_in(job, exc)
            if delay is not None:
                lifecycle.retry_later(queue, job, delay, fields)
                log.info("job %s %s: %s, retry in %gs", job.id, job.callable, fields["exc_message"], delay)
                return
            recorded, _ = lifecycle.complete(queue, job, Outcome(status, fields), worker=self.name)
        except Exception as exc2:
            log.error("job %s: recording its outcome failed: %s", view.job_id, exc2)
            return
        if not recorded:
            return
        extra = {"job_id": job.id, "queue": job.queue, "callable": job.callable, "outcome": status.value}
        log.info("job %s %s: %s: %s", job.id, job.callable, status.value, fields["exc_message"], extra=extra)
        if job.task_id is not None or (job.on_stopped if status is JobStatus.STOPPED else job.on_failure):
            job.status = status
            job.ended_at = datetime.fromtimestamp(self.clock.wall(), UTC)
            self.after_work.append(
                AfterWork(job, status, None, fields["exc_type"], fields["exc_message"], "")
            )

    def _enforce(self, now: float) -> None:
        """Hard timeouts; in a cold shutdown, stop running jobs and idle stragglers."""
        for index in list(self.children):
            view = self.slots.read(index)
            if self.cold:
                if view.busy or now - self.cold_since > _COLD_IDLE_GRACE:
                    self._kill(index, JobStatus.STOPPED, "stopped by a cold shutdown")
            elif view.busy and now > view.deadline:
                log.warning(
                    "job %s: hard timeout: killing execution process %d",
                    view.job_id,
                    self.children[index].pid,
                )
                ran_for = self.clock.wall() - view.started
                self._kill(index, JobStatus.FAILED, f"hard timeout: killed after {ran_for:.1f}s")

    def _finalize(self) -> None:
        """Run the callbacks of jobs recorded here in a short-lived process (no spare one is left)."""
        after, self.after_work = self.after_work, []
        ex = self._executor(0, burst=True, budget=None)
        pid = forking.fork(lambda: ex.finalize(after), "callback process")
        deadline = time.monotonic() + (self.options.callback_timeout + 1) * len(after)
        while time.monotonic() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    # ----- heartbeat and idleness -----
    def _state(self) -> tuple[str, list[tuple[int, str]], int, int]:
        current: list[tuple[int, str]] = []
        done = failed = 0
        for i in range(self.concurrency):
            view = self.slots.read(i)
            done += view.done
            failed += view.failed
            if view.busy:
                current.append((view.queue_index, view.job_id))
        mode = self.slots.mode
        state = (
            "stopping" if mode == STOP else "suspended" if mode == SUSPEND else "busy" if current else "idle"
        )
        return state, current, done, failed + self.extra_failed

    def _beat(self) -> None:
        if self.heartbeat is None:
            return
        state, current, done, failed = self._state()
        try:
            self.heartbeat.beat(self.clock.wall(), state, current, done, failed)
        except Exception as exc:
            self.beat_trouble = outage.changed(log, self.beat_trouble, "heartbeat", exc)
        else:
            self.beat_trouble = outage.changed(log, self.beat_trouble, "heartbeat", None)

    def _check_idle(self, now: float) -> None:
        limit = self.options.max_idle_time
        if limit is None or self.slots.mode == STOP:
            return
        if any(self.slots.read(i).busy for i in range(self.concurrency)):
            self.last_busy = now
        elif now - self.last_busy >= limit:
            log.info("idle for %gs: stopping", limit)
            self._stop(cold=False)
