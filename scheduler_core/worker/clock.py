"""The worker's two clocks, injected so that its loops can be stepped in tests.

Wall time is for what other processes and hosts read: leases, heartbeats, the times in job
records, the claim time that fences a run. Monotonic time is for local deadlines (hard timeouts,
restart delays, idle time): a step of the wall clock (NTP, a suspended VM) must not kill a job or
keep an idle worker alive. CLOCK_MONOTONIC is system-wide, so the supervisor can compare a
deadline that an execution process wrote into its slot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    wall: Callable[[], float] = time.time
    mono: Callable[[], float] = time.monotonic


SYSTEM = Clock()
