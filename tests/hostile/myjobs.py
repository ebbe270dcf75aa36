"""A jobs module as found in the wild: it imports os, so `myjobs.os.system` is reachable by
attribute traversal (the ALLOWED_CALLABLES tests allow this module and nothing else)."""

from __future__ import annotations

import os  # noqa: F401  (reachable as tests.hostile.myjobs.os: what the guard must refuse)
from pathlib import Path  # noqa: F401  (a class defined elsewhere, reachable through this module)


def ok() -> str:
    return "ok"


class Tools:
    @staticmethod
    def ping() -> str:
        return "pong"
