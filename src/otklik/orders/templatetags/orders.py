"""The orders panel on the workspace case page, and small template helpers."""

from django import template

from otklik.cases.selectors import can_edit_case
from otklik.common.languages import entry_text
from otklik.orders import selectors, services
from otklik.orders.models import OrderStatus, StepStatus
from otklik.orders.views import FIELD_PREFIX

register = template.Library()


def _int(raw) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@register.inclusion_tag("orders/_case_orders_body.html", takes_context=True)
def orders_case_panel(context, case):
    """«Оформить распоряжение»: the draft form with a preview, and the case's orders."""
    request = context["request"]
    user = request.user
    client = case.client
    templates = selectors.order_templates()
    usable = [t for t in templates if services.order_products(template=t, client=client)]
    wanted = request.GET.get("order_template", "")
    current = next((t for t in templates if t.code == wanted), None) or (
        usable[0] if usable else None
    )
    products, product, preview, fields = [], None, None, []
    if current is not None:
        products = services.order_products(template=current, client=client)
        product_id = _int(request.GET.get("order_product"))
        product = next((p for p in products if p.pk == product_id), None) or (
            products[0] if products else None
        )
        overrides = {
            key.removeprefix(FIELD_PREFIX): value
            for key, value in request.GET.items()
            if key.startswith(FIELD_PREFIX)
        }
        preview = services.order_preview(
            template=current, client=client, product=product, overrides=overrides
        )
        fields = [
            {
                **spec,
                "label": entry_text(spec, "label"),
                "input": FIELD_PREFIX + spec["name"],
                "value": preview.fields.get(spec["name"], ""),
                "error": preview.errors.get(spec["name"], "") if overrides else "",
            }
            for spec in current.fields_schema
        ]
    orders = selectors.case_orders(case=case)
    return {
        "case": case,
        "editable": can_edit_case(user=user, case=case) and case.is_open,
        "can_unfreeze": user.role in services.UNFREEZE_ROLES,
        "templates": templates,
        "current": current,
        "products": products,
        "product": product,
        "preview": preview,
        "fields": fields,
        "orders": orders,
        "open_form": bool(wanted) or not orders,
        "csrf_token": context.get("csrf_token"),
        "OrderStatus": OrderStatus,
        "StepStatus": StepStatus,
    }


@register.filter
def client_step_status(status: str) -> str:
    return selectors.client_step_status(status)
