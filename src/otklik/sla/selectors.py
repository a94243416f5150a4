"""Reads on SLA deadlines: the open clock of a case, labels, portal answer statistics."""

import math
from datetime import datetime

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.sla.models import Deadline, DeadlineKind


def deadline_open_for(*, case, kind: str, handoff=None) -> Deadline | None:
    """The running (not met, not cancelled) deadline of this kind, or None."""
    return (
        Deadline.objects.filter(
            case=case,
            kind=kind,
            handoff=handoff,
            met_at__isnull=True,
            cancelled_at__isnull=True,
        )
        .order_by("-started_at", "-pk")
        .first()
    )


def deadlines_for_case(*, case) -> list[Deadline]:
    """Every deadline of a case, oldest first (for the case page and history)."""
    return list(
        Deadline.objects.filter(case=case)
        .select_related("handoff", "escalated_to")
        .order_by("started_at", "pk")
    )


def duration_text(seconds: float) -> str:
    """'2 дн 3 ч', '3 ч 10 мин', '20 мин' — two largest units, minutes rounded up."""
    minutes = max(1, math.ceil(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%(n)d d") % {"n": days})
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if mins and not days:
        parts.append(_("%(n)d min") % {"n": mins})
    return " ".join(parts)


def remaining_label(deadline: Deadline, *, now: datetime | None = None) -> str:
    """How the clock stands, in words: time left, overdue by, on hold, met."""
    now = now or timezone.now()
    if deadline.cancelled_at is not None:
        return _("cancelled")
    if deadline.met_at is not None:
        return _("met on time") if deadline.met_on_time else _("met late")
    if deadline.paused_at is not None:
        return _("on hold")
    seconds = (deadline.due_at - now).total_seconds()
    if seconds > 0:
        return _("%(duration)s left") % {"duration": duration_text(seconds)}
    return _("overdue by %(duration)s") % {"duration": duration_text(-seconds)}


def portal_answer_stats(*, since: datetime, until: datetime) -> dict:
    """Answers in the personal cabinet given in [since, until) and the share given on time."""
    answered = Deadline.objects.filter(
        kind=DeadlineKind.PORTAL_ANSWER, met_at__gte=since, met_at__lt=until
    )
    sent = answered.count()
    on_time = answered.filter(breached_at__isnull=True, met_at__lte=F("due_at")).count()
    return {"sent": sent, "on_time": on_time, "share_on_time": (on_time / sent) if sent else None}
