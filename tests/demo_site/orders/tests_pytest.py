"""The same features, pytest-django style (`pytest` only). The key prefix of each test comes from
the `scheduler_core.testing.fixtures` plugin (pytest.ini: -p scheduler_core.testing.fixtures)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from orders.jobs import issue_invoice, send_receipt
from orders.models import Order
from scheduler_core import get_queue
from scheduler_core.conf import get_config
from scheduler_core.jobs.record import JobStatus
from scheduler_core.testing import drain


def test_each_test_has_its_own_prefix(taskctl_key_prefix: str) -> None:
    assert get_config().key_prefix == taskctl_key_prefix and taskctl_key_prefix.startswith("shop-test-")


@pytest.mark.django_db
def test_drain_runs_the_invoice_on_the_tests_rows(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order = Order.objects.create(customer="ha@example.com", total=Decimal("9"))
        job = issue_invoice.delay(order.pk)
    assert drain() == 1
    order.refresh_from_db()
    assert job.wait(timeout=5) == order.invoice_number == f"INV-{order.pk:05d}"
    assert job.meta == {"step": "done"}


@pytest.mark.django_db(transaction=True)
def test_commit_and_rollback(settings: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        send_receipt.delay(Order.objects.create(customer="io@example.com", total=Decimal("1")).pk)
        raise RuntimeError
    assert get_queue("mail").count("queued") == 0
    with transaction.atomic():
        job = send_receipt.delay(Order.objects.create(customer="jo@example.com", total=Decimal("1")).pk)
    assert drain("mail") == 1 and job.refresh().status is JobStatus.FINISHED


@pytest.mark.django_db
def test_eager_with_the_settings_fixture(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "EAGER": True}  # setting_changed: takes effect now
    with django_capture_on_commit_callbacks(execute=True):
        order = Order.objects.create(customer="ka@example.com", total=Decimal("2"))
        job = issue_invoice.delay(order.pk)
    assert job.status is JobStatus.FINISHED and job.result == f"INV-{order.pk:05d}"
