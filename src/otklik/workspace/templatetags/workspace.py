"""Template helpers of the workspace: labels, masking and compact formatting."""

from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from otklik.cases.labels import event_field_label
from otklik.cases.models import Case, CaseStatus, EventKind
from otklik.clients.models import ChannelKind
from otklik.clients.product_details import (
    FUND_TYPE_LABELS,
    provider_label,
    service_label,
    service_parameter_label,
)
from otklik.common.phones import format_phone

register = template.Library()

COURT_STATUS_LABELS = {
    "none": _("No court proceedings"),
    "pretrial": _("Pre-trial collection"),
    "claim_filed": _("Claim filed in court"),
    "judgment": _("Court judgment issued"),
    "enforcement": _("Enforcement proceedings"),
}


@register.filter
def fund_type_label(code: str) -> str:
    return FUND_TYPE_LABELS.get(code, code)


register.filter("provider_label", provider_label)
register.filter("service_label", service_label)
register.filter("service_parameter_label", service_parameter_label)


@register.filter
def court_status_label(code: str) -> str:
    return str(COURT_STATUS_LABELS.get(code, code))


@register.filter
def status_label(code: str) -> str:
    return str(CaseStatus(code).label) if code in CaseStatus.values else code


@register.filter
def channel_label(code: str) -> str:
    return str(ChannelKind(code).label) if code in ChannelKind.values else code


@register.filter
def phone(value: str) -> str:
    return format_phone(value)


@register.filter
def age(value: datetime | None) -> str:
    """How long ago, in its largest unit only ("3 дня"), for dense tables."""
    return timesince(value, depth=1) if value else ""


@register.filter
def is_overdue(case: Case, now: datetime) -> bool:
    return bool(case.is_open and case.due_at and case.due_at < now)


@register.filter
def event_change(event) -> dict:
    """What a history row says: the field's label and old → new in words."""
    field_label = ""
    old, new = event.old_value, event.new_value
    if event.kind in (EventKind.STATUS_CHANGED, EventKind.REOPENED):
        old, new = status_label(old), status_label(new)
    elif event.kind == EventKind.INTERACTION_LINKED:
        new = channel_label(new)
    elif event.kind == EventKind.ACTION:
        old = ""  # the run's marker (cases/labels.py), not a value the reader needs
    elif event.kind == EventKind.FIELD_CHANGED and event.field:
        try:
            field_label = str(Case._meta.get_field(event.field).verbose_name)
        except FieldDoesNotExist:  # recorded by another app (see cases/labels.py)
            field_label = event_field_label(event.field)
    return {"field": field_label, "old": old, "new": new}


@register.simple_tag
def query_with(request, **overrides) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    params = request.GET.copy()
    for key, value in overrides.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.items()))


@register.simple_tag
def message_max_length() -> int:
    """The longest note or reply the service accepts: the form refuses longer text itself."""
    from otklik.cases.services import MAX_BODY

    return MAX_BODY
