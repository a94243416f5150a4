"""Template helpers that let workspace pages include the handoff panel and banner.

The workspace's case page only includes our templates; these tags fetch what they show
through the handoffs selectors, with the same permission checks as the views.
"""

from typing import Any

from django import template
from django.http import HttpRequest

from otklik.cases.models import Case
from otklik.clients.models import Reachability
from otklik.handoffs.selectors import (
    can_control_case,
    can_watch_case,
    case_handoffs,
    case_waiting_on,
    case_watchers,
    client_reachability,
    department_list,
)

register = template.Library()


def case_panel_context(*, request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    """Everything the case's handoff panel shows to `request.user`."""
    user = request.user
    watchers = case_watchers(case=case)
    context: dict[str, Any] = {
        "case": case,
        "client": case.client,
        "handoff_rows": case_handoffs(user=user, case=case),
        "departments": list(department_list()),
        "can_send": case.is_open and can_control_case(user=user, case=case),
        "can_control": can_control_case(user=user, case=case),
        "can_watch": can_watch_case(user=user, case=case),
        "watching": any(w.pk == user.pk for w in watchers),
        "watchers": watchers,
        "reach": client_reachability(client=case.client, user=user),
        "reachability_choices": Reachability.choices,
        "send_values": {},
        "send_errors": {},
        "reply_values": {},
        "reply_errors": {},
        "reach_errors": {},
        "panel_error": "",
        "next_url": "",
    }
    context.update(extra)
    return context


@register.simple_tag(takes_context=True)
def handoff_panel(context, case: Case) -> dict[str, Any]:
    """`{% handoff_panel case as hp %}`: the panel's data, keeping errors a view passed in."""
    keys = (
        "send_values",
        "send_errors",
        "reply_values",
        "reply_errors",
        "reach_errors",
        "panel_error",
    )
    extra = {key: context[key] for key in keys if key in context}
    return case_panel_context(request=context["request"], case=case, **extra)


@register.simple_tag(takes_context=True)
def handoff_banner(context, case: Case) -> list:
    """`{% handoff_banner case as rows %}`: the handoffs the case is still waiting for."""
    return case_waiting_on(user=context["request"].user, case=case)


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key, "")
