"""Demo data of orders: the templates, and optionally story 000's order sent for signature."""

from django.db import transaction

from otklik.cases.models import Case
from otklik.clients.models import ContactPoint
from otklik.orders.catalogue import order_templates_ensure
from otklik.orders.models import Order

STORY_000_PHONE = "+79164821735"  # Игорь Валерьевич Кузнецов, see otklik.demo


@transaction.atomic
def load_demo_orders(*, sample_order: bool = False) -> dict:
    """Idempotent: create the order templates; with `sample_order`, also send story 000's
    ИИС closure order to the client's personal cabinet (if the demo is loaded and the
    client has no order yet), so the portal signing can be shown without the workspace."""
    templates = order_templates_ensure()
    result = {"templates": len(templates), "order": None}
    if not sample_order:
        return result
    contact = ContactPoint.objects.filter(value=STORY_000_PHONE).select_related("client").first()
    if contact is None:
        return result
    client = contact.client
    existing = Order.objects.filter(client=client).first()
    if existing is not None:
        result["order"] = existing
        return result
    case = Case.objects.filter(client=client, is_open=True).order_by("-created_at").first()
    if case is None or case.owner is None:
        return result
    from otklik.orders.services import order_draft

    result["order"] = order_draft(
        actor=case.owner, case=case, template_code="iis_close_frozen", send=True
    )
    return result
