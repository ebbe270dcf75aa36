"""Shared memory between the supervisor and its execution processes (no syscall per job).

Each execution process owns one slot and writes into it when it starts and ends a job; the
supervisor reads the slots to renew leases, enforce hard timeouts, find the job to stop, and
report counters. A sequence number (odd while a write is in progress) makes reads consistent.
One control byte, written by the supervisor, tells the execution processes to run, suspend
claiming, or stop.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

RUN, SUSPEND, STOP = 0, 1, 2

SLOT_SIZE = 1024
_HEAD = struct.Struct("<QBHHddQQ")  # seq, busy, queue index, id length, started, deadline, done, failed
_SEQ = struct.Struct("<Q")
MAX_ID = SLOT_SIZE - _HEAD.size
_CONTROL = 64  # bytes before the first slot: the control byte, then the max-jobs budget


@dataclass(frozen=True)
class SlotView:
    busy: bool
    queue_index: int
    job_id: str
    started: float
    deadline: float
    done: int
    failed: int


class Slots:
    def __init__(self, count: int) -> None:
        self.count = count
        self.mem = mmap.mmap(-1, _CONTROL + SLOT_SIZE * count)

    # ----- control byte (supervisor writes, execution processes read) -----
    @property
    def mode(self) -> int:
        return self.mem[0]

    @mode.setter
    def mode(self, value: int) -> None:
        self.mem[0] = value

    # ----- one slot (its execution process writes, the supervisor reads) -----
    def writer(self, index: int) -> SlotWriter:
        return SlotWriter(self.mem, _CONTROL + index * SLOT_SIZE)

    def read(self, index: int) -> SlotView:
        off = _CONTROL + index * SLOT_SIZE
        mem = self.mem
        while True:
            seq, busy, qi, n, started, deadline, done, failed = _HEAD.unpack_from(mem, off)
            raw = bytes(mem[off + _HEAD.size : off + _HEAD.size + n])
            if seq % 2 == 0 and _HEAD.unpack_from(mem, off)[0] == seq:
                return SlotView(bool(busy), qi, raw.decode(errors="replace"), started, deadline, done, failed)

    def reset(self, index: int) -> None:
        """Mark a dead process's slot idle (its counters are kept)."""
        self.writer(index).end(None)


class SlotWriter:
    """The execution process's side of its slot."""

    def __init__(self, mem: mmap.mmap, offset: int) -> None:
        self.mem = mem
        self.off = offset
        seq, _, _, _, _, _, done, failed = _HEAD.unpack_from(mem, offset)
        self.seq = seq + (seq % 2)
        self.done = done
        self.failed = failed
        self.queue_index = 0
        self.raw = b""
        self.started = 0.0

    def _write(self, busy: int, deadline: float) -> None:
        mem, off = self.mem, self.off
        self.seq += 1
        _SEQ.pack_into(mem, off, self.seq)  # odd: a write is in progress
        raw = self.raw
        mem[off + _HEAD.size : off + _HEAD.size + len(raw)] = raw
        _HEAD.pack_into(
            mem,
            off,
            self.seq,
            busy,
            self.queue_index,
            len(raw),
            self.started,
            deadline,
            self.done,
            self.failed,
        )
        self.seq += 1
        _SEQ.pack_into(mem, off, self.seq)

    def begin(self, queue_index: int, job_id: str, started: float, deadline: float) -> None:
        self.queue_index = queue_index
        self.raw = job_id.encode()[:MAX_ID]
        self.started = started
        self._write(1, deadline)

    def extend(self, deadline: float) -> None:
        """Move the hard deadline of the current job (its callbacks run under their own timeout)."""
        self._write(1, deadline)

    def end(self, ok: bool | None = True) -> None:
        """The current job is over: count it as done (True), failed (False) or neither (None)."""
        if ok is True:
            self.done += 1
        elif ok is False:
            self.failed += 1
        self.queue_index, self.raw, self.started = 0, b"", 0.0
        self._write(0, 0.0)
