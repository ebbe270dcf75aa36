"""Helpers for a site's own tests: run queued jobs in the test (`drain`) and keep the tests'
broker keys apart from any other (`isolated_broker`, `runner.TestRunner`, `fixtures`).

    from scheduler_core.testing import drain, isolated_broker

    @isolated_broker()                     # this class's tests: a key prefix of their own
    class OrderTests(TestCase):
        def test_invoice(self):
            with self.captureOnCommitCallbacks(execute=True):   # enqueue on commit, in TestCase
                order = Order.objects.create(total=10)
                send_invoice.delay(order.pk)
            self.assertEqual(drain(), 1)     # ran here, on this test's connection and transaction
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler_core.testing.draining import drain
    from scheduler_core.testing.isolation import drop_keys, isolated_broker

__all__ = ["drain", "drop_keys", "isolated_broker"]

# Imported on first use: pytest loads the `fixtures` plugin (a submodule, so this package too)
# before pytest-django sets Django up, and drain reaches the models.
_HOME = {
    "drain": "scheduler_core.testing.draining",
    "drop_keys": "scheduler_core.testing.isolation",
    "isolated_broker": "scheduler_core.testing.isolation",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'scheduler_core.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
