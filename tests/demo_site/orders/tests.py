"""The shop's own tests, Django style: `python manage.py test` and `pytest` both run them.

Jobs run in the test's process through scheduler_core.testing.drain (or EAGER), on the test's
database connection: they see the rows the test created, inside its transaction.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.test import TestCase, TransactionTestCase, override_settings

from orders import jobs
from orders.jobs import issue_invoice, refuse, send_receipt
from orders.models import Order
from orders.views import PaymentDeclined
from scheduler_core import JobFailed, get_queue
from scheduler_core.conf import get_config
from scheduler_core.errors import BrokerUnavailable
from scheduler_core.jobs.record import JobStatus
from scheduler_core.testing import drain, isolated_broker


def scheduler(**changes: object) -> dict[str, object]:
    return {**settings.SCHEDULER, **changes}


@isolated_broker()  # each test: a key prefix of its own
class InvoiceTests(TestCase):
    def test_tests_never_use_the_development_prefix(self) -> None:
        self.assertTrue(get_config().key_prefix.startswith("shop-test-"))

    def test_a_job_reads_the_row_created_in_the_test(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            order = Order.objects.create(customer="ann@example.com", total=Decimal("12.50"))
            job = issue_invoice.delay(order.pk)
            self.assertEqual(get_queue().count("queued"), 0)  # waits for the commit
        self.assertEqual(drain(), 1)
        order.refresh_from_db()
        self.assertEqual(order.invoice_number, f"INV-{order.pk:05d}")
        job.refresh()
        self.assertEqual((job.status, job.result), (JobStatus.FINISHED, order.invoice_number))
        self.assertEqual(job.meta, {"step": "done"})  # progress reported through get_current_job()

    def test_the_view_enqueues_on_commit_and_a_declined_payment_sends_nothing(self) -> None:
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            response = self.client.post("/orders/", {"customer": "bo@example.com", "total": "5"})
        self.assertEqual((response.status_code, len(callbacks)), (200, 2))
        self.assertEqual((get_queue().count("queued"), get_queue("mail").count("queued")), (1, 1))
        self.assertEqual(drain("mail"), 1)
        self.assertIn("bo@example.com", jobs.SENT)
        with self.captureOnCommitCallbacks(execute=True) as callbacks, self.assertRaises(PaymentDeclined):
            self.client.post("/orders/", {"customer": "cy@example.com", "total": "5", "declined": "1"})
        self.assertEqual(callbacks, [])  # the request's transaction rolled back: no job sent
        self.assertEqual(drain(), 1)  # only the first order's invoice
        self.assertFalse(Order.objects.filter(customer="cy@example.com").exists())

    @override_settings(SCHEDULER=scheduler(EAGER=True, BROKER_URL="redis://127.0.0.1:1/0"))
    def test_eager_runs_the_job_at_once_without_a_broker(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            order = Order.objects.create(customer="di@example.com", total=Decimal("1"))
            job = issue_invoice.delay(order.pk)
        self.assertEqual((job.status, job.result), (JobStatus.FINISHED, f"INV-{order.pk:05d}"))
        self.assertEqual(job.wait(), job.result)
        failed = refuse.using(on_commit=False).delay(order.pk)
        self.assertEqual(failed.status, JobStatus.FAILED)
        with self.assertRaises(JobFailed) as caught:
            failed.wait()
        self.assertEqual(caught.exception.exc_type, "ValueError")

    def test_a_failed_job_raises_job_failed_from_wait(self) -> None:
        job = refuse.using(on_commit=False).delay(7)  # sent now, even inside the test's transaction
        self.assertEqual(drain(), 1)
        with self.assertRaises(JobFailed) as caught:
            job.wait(timeout=5)
        self.assertIn("order 7 refused", str(caught.exception))

    @override_settings(SCHEDULER=scheduler(BROKER_URL="redis://:hunter2@127.0.0.1:1/0", CONNECT_TIMEOUT=0.3))
    def test_an_unreachable_broker_is_one_taskctl_error(self) -> None:
        with self.assertRaises(BrokerUnavailable) as caught:
            send_receipt.using(on_commit=False).delay(1)
        self.assertIn("redis://:***@127.0.0.1:1/0", str(caught.exception))
        self.assertNotIn("hunter2", str(caught.exception))


@isolated_broker()
class CommitTests(TransactionTestCase):
    """Real commits and rollbacks (TransactionTestCase): what production does."""

    def test_rollback_sends_nothing_and_commit_sends_after_the_outermost_block(self) -> None:
        with self.assertRaises(RuntimeError), transaction.atomic():
            order = Order.objects.create(customer="ed@example.com", total=Decimal("3"))
            issue_invoice.delay(order.pk)
            raise RuntimeError("rolled back")
        self.assertEqual(get_queue().count("queued"), 0)
        with transaction.atomic():
            order = Order.objects.create(customer="fi@example.com", total=Decimal("3"))
            with transaction.atomic():
                job = issue_invoice.delay(order.pk)
            try:
                with transaction.atomic():
                    send_receipt.delay(order.pk)
                    raise ValueError("savepoint rolled back")
            except ValueError:
                pass
            self.assertEqual(get_queue().count("queued"), 0)
        self.assertEqual((get_queue().count("queued"), get_queue("mail").count("queued")), (1, 0))
        self.assertEqual(drain(), 1)
        self.assertEqual(job.wait(timeout=5), f"INV-{order.pk:05d}")

    def test_wait_blocks_until_the_job_ran(self) -> None:
        order = Order.objects.create(customer="gu@example.com", total=Decimal("3"))
        job = issue_invoice.delay(order.pk)  # no transaction: sent at once
        result: list[object] = []
        waiter = threading.Thread(target=lambda: result.append(job.wait(timeout=30)))
        waiter.start()
        self.assertEqual(drain(), 1)
        waiter.join(10)
        self.assertEqual(result, [f"INV-{order.pk:05d}"])
