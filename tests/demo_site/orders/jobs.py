"""The shop's jobs. They read rows by id, so they must never run before the row is committed:
SCHEDULER["ENQUEUE_ON_COMMIT"] (on by default) sends them when the view's transaction commits."""

from __future__ import annotations

from orders.models import Order
from scheduler_core import get_current_job, job

SENT: list[str] = []  # the "mailbox" of send_receipt (jobs run in the test's process in tests)


@job(queue="default")
def issue_invoice(order_id: int) -> str:
    """Number the order's invoice; reports its steps in the job's meta."""
    current = get_current_job()
    order = Order.objects.get(pk=order_id)  # DoesNotExist if it ran before the commit
    if current is not None:
        current.meta["step"] = "numbering"
        current.save_meta()
    order.invoice_number = f"INV-{order.pk:05d}"
    order.save(update_fields=["invoice_number"])
    if current is not None:
        current.meta["step"] = "done"
        current.save_meta()
    return order.invoice_number


@job(queue="mail")
def send_receipt(order_id: int) -> int:
    order = Order.objects.get(pk=order_id)
    SENT.append(order.customer)
    return len(SENT)


@job(queue="default")
def refuse(order_id: int) -> None:
    raise ValueError(f"order {order_id} refused")
