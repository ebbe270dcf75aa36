from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, JsonResponse

from orders.jobs import issue_invoice, send_receipt
from orders.models import Order


class PaymentDeclined(Exception):
    pass


def place_order(request: HttpRequest) -> JsonResponse:
    """Create an order and enqueue its invoice and receipt, all in the request's transaction
    (ATOMIC_REQUESTS): a declined payment rolls the order back, and with it the jobs."""
    order = Order.objects.create(customer=request.POST["customer"], total=Decimal(request.POST["total"]))
    invoice = issue_invoice.delay(order.pk)
    send_receipt.delay(order.pk)
    if request.POST.get("declined"):
        raise PaymentDeclined(order.customer)
    return JsonResponse({"order": order.pk, "invoice_job": invoice.id})
