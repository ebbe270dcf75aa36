"""`TEST_RUNNER = "scheduler_core.testing.runner.TestRunner"`: Django's test runner, with the whole
run under a broker key prefix of its own (scheduler_core.testing.isolated_broker), so
`manage.py test` never enqueues where a development worker listens, and leaves no keys behind.
"""

from __future__ import annotations

from typing import Any

from django.test.runner import DiscoverRunner

from scheduler_core.testing.isolation import isolated_broker


class TestRunner(DiscoverRunner):
    def setup_test_environment(self, **kwargs: Any) -> None:
        super().setup_test_environment(**kwargs)
        self._taskctl_broker = isolated_broker()
        self._taskctl_broker.enable()

    def teardown_test_environment(self, **kwargs: Any) -> None:
        try:
            self._taskctl_broker.disable()
        finally:
            super().teardown_test_environment(**kwargs)
