"""Settings for worker processes of the engine tests: the suite's, on the broker URL and the
queues the test names (TASKCTL_TEST_REDIS_URL, TASKCTL_ENGINE_QUEUES)."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import SCHEDULER

SCHEDULER = {
    **SCHEDULER,
    "QUEUES": {name: {} for name in os.environ.get("TASKCTL_ENGINE_QUEUES", "default").split(",")},
}
