"""Number options that refuse NaN, infinities and absurd sizes with one line (exit 3).

Click's ranges compare, and every comparison with NaN is false: `--interval nan` passes `min=0.1`
and fails later, deep inside (a traceback). These callbacks check before the command runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

DAY = 86400.0
MAX_INT = 10**9  # offsets and counts: far past any real registry, far below Redis's 2^63


def seconds(option: str, maximum: float) -> Callable[[float | None], float | None]:
    """A callback for a float option of seconds: finite and at most `maximum`."""

    def check(value: float | None) -> float | None:
        from scheduler_core.errors import InvalidInput

        if value is not None and not (math.isfinite(value) and value <= maximum):
            raise InvalidInput(f"{option} {value!r}: expected a finite number of seconds up to {maximum:.0f}")
        return value

    return check
