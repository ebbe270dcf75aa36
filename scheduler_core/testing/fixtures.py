"""pytest-django: `pytest_plugins = ["scheduler_core.testing.fixtures"]` in a site's conftest.py
gives every test a broker key prefix of its own (see scheduler_core.testing.isolated_broker)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scheduler_core.testing import isolated_broker


@pytest.fixture(autouse=True)
def taskctl_key_prefix() -> Iterator[str]:
    """This test's SCHEDULER["KEY_PREFIX"]; its keys are deleted after the test."""
    isolation = isolated_broker()
    prefix = isolation.enable()
    try:
        yield prefix
    finally:
        isolation.disable()
