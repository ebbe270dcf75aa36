"""pytest-django: `pytest_plugins = ["scheduler_core.testing.fixtures"]` in a site's conftest.py
(or `-p scheduler_core.testing.fixtures`) gives every test a broker key prefix of its own (see
scheduler_core.testing.isolated_broker).

pytest imports a plugin before pytest-django sets Django up, so this module imports nothing of
scheduler_core at the top (scheduler_core.testing reaches the models)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def taskctl_key_prefix() -> Iterator[str]:
    """This test's SCHEDULER["KEY_PREFIX"]; its keys are deleted after the test."""
    from scheduler_core.testing.isolation import isolated_broker  # noqa: PLC0415 (Django is set up by now)

    isolation = isolated_broker()
    prefix = isolation.enable()
    try:
        yield prefix
    finally:
        isolation.disable()
