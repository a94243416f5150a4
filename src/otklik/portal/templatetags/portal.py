"""Template helpers of the portal, and the portal panels shown inside the workspace."""

import uuid
from datetime import timedelta

from django import template
from django.utils import timezone

from otklik.cases.selectors import can_edit_case
from otklik.portal import selectors

register = template.Library()


@register.filter
def client_status(code: str) -> str:
    """A case status in the client's words."""
    return selectors.client_status_label(code)


@register.inclusion_tag("portal/_case_portal_panel_body.html", takes_context=True)
def portal_case_panel(context, case):
    """The operator's "answer in the personal cabinet" panel on the case page."""
    user = context["request"].user
    return {
        "case": case,
        "panel": selectors.portal_panel(case=case),
        "editable": can_edit_case(user=user, case=case),
        "idempotency_key": uuid.uuid4().hex,  # one per rendered form: a double submit posts once
        "csrf_token": context.get("csrf_token"),
        "now": timezone.now(),
    }


@register.inclusion_tag("portal/_queue_stats_body.html", takes_context=True)
def portal_queue_stats(context):
    """A one-line summary of portal answers for supervisors on the queue page."""
    user = context["request"].user
    if not getattr(user, "sees_everything", False):
        return {"show": False}
    return {"show": True, "stats": selectors.portal_answer_stats(days=7)}


@register.inclusion_tag("portal/_serving.html")
def portal_serving(client):
    """Who serves the client now (a personal client's manager, or his deputy)."""
    serving = selectors.portal_serving(client=client) if client is not None else None
    back = serving.until + timedelta(days=1) if serving and serving.until else None
    return {"serving": serving, "back_on": back}


@register.filter
def get_item(mapping, key):
    """`mapping[key]` in a template, or None (per-message form errors and values)."""
    return mapping.get(key) if hasattr(mapping, "get") else None
