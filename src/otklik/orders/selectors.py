"""Reads of orders. Staff see the orders of cases they may see; a client only their own.

Anything else is a 404: another client's order (or a draft not yet sent) is simply not
found, so ids cannot be probed.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from otklik.accounts.models import User
from otklik.cases.models import Case
from otklik.cases.selectors import cases_visible_q
from otklik.clients.models import Client
from otklik.orders.models import (
    DocumentKind,
    Order,
    OrderDocument,
    OrderEvent,
    OrderStatus,
    OrderStep,
    OrderTemplate,
    StepStatus,
)

# Step states in the client's words.
CLIENT_STEP_STATUS = {
    StepStatus.PENDING: _("Next"),
    StepStatus.RUNNING: pgettext_lazy("order", "In progress"),
    StepStatus.DONE: _("Done"),
    StepStatus.FAILED: pgettext_lazy("order", "In progress"),
    StepStatus.HANDED_OFF: _("A specialist is doing it"),
    StepStatus.WAITING: _("Waiting for the assets to be unblocked"),
}

CLIENT_ORDER_STATUS = {
    OrderStatus.SENT_FOR_SIGNATURE: _("Waiting for your signature"),
    OrderStatus.SIGNED: _("Signed"),
    OrderStatus.IN_PROGRESS: _("Signed, in progress"),
    OrderStatus.COMPLETED: _("Completed"),
    OrderStatus.FAILED: _("Not completed"),
    OrderStatus.CANCELLED: _("Withdrawn"),
}

PORTAL_STATUSES = list(CLIENT_ORDER_STATUS)


def client_step_status(status: str) -> str:
    return str(CLIENT_STEP_STATUS.get(status, status))


def client_order_status(status: str) -> str:
    return str(CLIENT_ORDER_STATUS.get(status, status))


def _with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related(
        "template", "product", "document", "signed_document"
    ).prefetch_related(
        Prefetch("steps", queryset=OrderStep.objects.order_by("seq")),
        Prefetch("documents", queryset=OrderDocument.objects.order_by("created_at", "id")),
    )


# --- staff -------------------------------------------------------------------------------


def order_get_for_user(*, user: User, order_id: int) -> Order:
    """The order if `user` may see its case, else 404."""
    visible = Case.objects.filter(cases_visible_q(user))
    order = (
        Order.objects.filter(pk=order_id, case__in=visible)
        .select_related("case", "client", "template", "product", "document", "signed_document")
        .first()
    )
    if order is None:
        raise Http404("order not found")
    return order


def order_step_get_for_user(*, user: User, step_id: int) -> OrderStep:
    visible = Case.objects.filter(cases_visible_q(user))
    step = (
        OrderStep.objects.filter(pk=step_id, order__case__in=visible)
        .select_related("order", "order__case")
        .first()
    )
    if step is None:
        raise Http404("step not found")
    return step


def case_orders(*, case: Case) -> list[Order]:
    """The case's orders, newest first, with steps, documents and history."""
    orders = _with_details(Order.objects.filter(case=case)).prefetch_related(
        Prefetch(
            "events",
            queryset=OrderEvent.objects.select_related("actor").order_by("created_at", "id"),
        )
    )
    return list(orders.order_by("-drafted_at", "-id"))


def order_templates() -> list[OrderTemplate]:
    return list(OrderTemplate.objects.filter(is_active=True).order_by("pk"))


def order_document_get(*, order: Order, document_id: int) -> OrderDocument:
    document = OrderDocument.objects.filter(order=order, pk=document_id).first()
    if document is None:
        raise Http404("document not found")
    return document


# --- the client --------------------------------------------------------------------------


def portal_orders(*, client: Client) -> list[Order]:
    """The client's orders sent to them (drafts are the operator's business), newest first."""
    orders = Order.objects.filter(
        client=client, status__in=PORTAL_STATUSES, sent_at__isnull=False
    ).select_related("template")
    return list(orders.order_by("-sent_at", "-id"))


def portal_orders_to_sign(*, client: Client) -> int:
    return Order.objects.filter(client=client, status=OrderStatus.SENT_FOR_SIGNATURE).count()


def portal_order_get(*, client: Client, order_id: int) -> Order:
    """One of the client's orders (sent to them), else 404."""
    order = (
        _with_details(
            Order.objects.filter(
                pk=order_id, client=client, status__in=PORTAL_STATUSES, sent_at__isnull=False
            )
        )
        .select_related("case")
        .first()
    )
    if order is None:
        raise Http404("order not found")
    return order


def portal_document_get(*, order: Order, document_id: int) -> OrderDocument:
    """A document of the client's order: the order itself, the signed copy, the notice."""
    kinds = [DocumentKind.ORDER, DocumentKind.SIGNED_ORDER, DocumentKind.CLOSURE_NOTICE]
    document = OrderDocument.objects.filter(order=order, pk=document_id, kind__in=kinds).first()
    if document is None:
        raise Http404("document not found")
    return document


@dataclass
class StepRow:
    step: OrderStep
    client_status: str


def step_rows(order: Order) -> list[StepRow]:
    return [StepRow(step, client_step_status(step.status)) for step in order.steps.all()]


def closure_notice(order: Order) -> OrderDocument | None:
    for document in order.documents.all():
        if document.kind == DocumentKind.CLOSURE_NOTICE:
            return document
    return None
