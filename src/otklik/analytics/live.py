"""Figures read live from the raw rows, because they are about *now* (backlog, overdue
answers) or need medians, which do not add up across rollup rows (handoffs); and the
drill-down: the cases behind any number on the dashboard."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from otklik.accounts.models import Team, User
from otklik.analytics import facts, metrics
from otklik.analytics.models import NpsSurvey
from otklik.analytics.selectors import Filters, Scope, case_scope_q
from otklik.cases.models import Case, Direction, Interaction
from otklik.cases.selectors import cases_visible_q
from otklik.chat.models import ChatRating
from otklik.handoffs.models import Handoff, HandoffStatus
from otklik.portal.models import CsiRating, PortalAnswer


def backlog(scope: Scope, f: Filters, now: datetime) -> dict:
    """Open cases now (the period does not apply): per age bucket, overdue, per team.
    Counted in SQL with the bucket bounds of metrics.AGE_BUCKETS (age ≥ low ⇔ created at
    or before now − low), so tens of thousands of open cases are never loaded."""
    counts = {}
    for label, low, high in metrics.AGE_BUCKETS:
        q = Q(created_at__lte=now - low)
        if high is not None:
            q &= Q(created_at__gt=now - high)
        counts[label] = Count("pk", filter=q)
    counts["overdue"] = Count("pk", filter=Q(due_at__lt=now))
    open_cases = Case.objects.filter(case_scope_q(scope, f), is_open=True)
    # Grouped by the team's id (no join, the open-cases index); names looked up after.
    rows = list(open_cases.values("team_id").annotate(**counts).order_by())
    names = dict(Team.objects.filter(pk__in=[r["team_id"] for r in rows]).values_list("pk", "name"))
    keys = list(counts)
    total = {k: sum(r[k] for r in rows) for k in keys}
    teams = sorted(
        ((names.get(r["team_id"]) or "—", {k: r[k] for k in keys}) for r in rows),
        key=lambda item: item[0],
    )
    opened = sum(total[label] for label, _low, _high in metrics.AGE_BUCKETS)
    return {"total": total, "teams": teams, "open": opened}


def handoffs(scope: Scope, f: Filters, now: datetime) -> dict[str, metrics.HandoffFigures]:
    """Handoffs sent in the period, per department (each handoff is one hop)."""
    rows = (
        Handoff.objects.filter(case_scope_q(scope, f, prefix="case"))
        .filter(created_at__gte=f.since, created_at__lt=f.until)
        .exclude(status=HandoffStatus.CANCELLED)
        .values_list("department__name", "created_at", "due_at", "answered_at")
    )
    items = [metrics.HandoffFacts(d, c, due, a) for d, c, due, a in rows.iterator()]
    return metrics.handoff_figures(items, now)


def nps_comments(scope: Scope, f: Filters, limit: int = 20) -> QuerySet:
    qs = NpsSurvey.objects.filter(
        answered_at__gte=f.since, answered_at__lt=f.until, score__isnull=False
    ).exclude(comment="")
    if scope.kind == "teams":
        qs = qs.filter(team_id__in=scope.team_ids)
    elif scope.kind == "self":
        qs = qs.filter(operator_id=scope.user_id)
    if f.team:
        qs = qs.filter(team_id=f.team)
    if f.operator:
        qs = qs.filter(operator_id=f.operator)
    return qs.order_by("-answered_at")[:limit]


# --- Drill-down -----------------------------------------------------------------------

DRILLS = (
    "contacts",
    "aht",
    "sl",
    "csi",
    "csi_bad",
    "nps",
    "resolved",
    "fcr",
    "fcr_miss",
    "portal",
    "portal_late",
    "backlog",
    "overdue",
    "handoffs",
)


def drill_cases(
    user: User, scope: Scope, f: Filters, metric: str, now: datetime, *, department: str = ""
) -> QuerySet:
    """The cases behind one number, under the same scope and filters, and only cases the
    viewer may open anyway (cases.selectors rule)."""
    if metric not in DRILLS:
        raise ValidationError(_("Unknown figure."))
    period = {"gte": f.since, "lt": f.until}
    cases = Case.objects.filter(cases_visible_q(user))
    if scope.kind == "self":
        base = Q(owner_id=scope.user_id)
        filters = case_scope_q(Scope(kind="all"), f)
    else:
        base, filters = Q(), case_scope_q(scope, f)
    if metric in ("contacts", "aht", "sl"):
        contacts = Interaction.objects.filter(
            case=OuterRef("pk"), started_at__gte=f.since, started_at__lt=f.until
        )
        if metric == "contacts":
            contacts = contacts.filter(direction=Direction.INBOUND)
        if metric == "aht":
            contacts = contacts.filter(ended_at__isnull=False, operator__isnull=False)
        if f.operator or scope.kind == "self":
            contacts = contacts.filter(operator_id=f.operator or scope.user_id)
            base, filters = Q(), case_scope_q(Scope(kind="all"), replace_operator(f))
        q = Exists(contacts)
        if metric == "sl":
            q = q | Q(
                channel__in=facts.REPLY_CHANNELS,
                created_at__gte=f.since,
                created_at__lt=f.until,
            )
        return cases.filter(base, filters).filter(q).distinct()
    if metric in ("csi", "csi_bad"):
        ratings = CsiRating.objects.filter(
            case=OuterRef("pk"), created_at__gte=f.since, created_at__lt=f.until
        )
        chats = ChatRating.objects.filter(
            conversation__case=OuterRef("pk"), created_at__gte=f.since, created_at__lt=f.until
        )
        if metric == "csi_bad":
            ratings, chats = ratings.filter(score__lte=3), chats.filter(score__lte=3)
        return cases.filter(base, filters).filter(Exists(ratings) | Exists(chats))
    if metric == "nps":
        answered = NpsSurvey.objects.filter(
            case=OuterRef("pk"), answered_at__gte=f.since, answered_at__lt=f.until
        )
        return cases.filter(base, filters).filter(Exists(answered))
    if metric in ("resolved", "fcr", "fcr_miss"):
        from django.conf import settings

        resolved = cases.filter(base, filters).filter(
            resolved_at__gte=period["gte"], resolved_at__lt=period["lt"]
        )
        if metric == "resolved":
            return resolved
        rows = facts.fcr_annotated(resolved, settings.OTKLIK_FCR_REPEAT_DAYS).values(
            "pk",
            "topic_id",
            "inbound",
            "was_reopened",
            "repeat_contact",
            "repeat_same_topic",
            "repeat_no_topic",
        )
        wanted = metric == "fcr"
        ids = [r["pk"] for r in rows if facts.case_is_fcr(r) == wanted]
        return cases.filter(pk__in=ids)
    if metric in ("portal", "portal_late"):
        answers = PortalAnswer.objects.filter(
            case=OuterRef("pk"), posted_at__gte=f.since, posted_at__lt=f.until
        )
        if metric == "portal_late":
            answers = answers.filter(on_time=False)
        return cases.filter(base, filters).filter(Exists(answers))
    if metric in ("backlog", "overdue"):
        open_cases = cases.filter(base, filters, is_open=True)
        return open_cases.filter(due_at__lt=now) if metric == "overdue" else open_cases
    handoffs_q = Handoff.objects.filter(
        case=OuterRef("pk"), created_at__gte=f.since, created_at__lt=f.until
    )
    if department:
        handoffs_q = handoffs_q.filter(department__name=department)
    return cases.filter(base, filters).filter(Exists(handoffs_q))


def replace_operator(f: Filters) -> Filters:
    """Contacts are attributed to the operator who took them, not to the case owner."""
    from dataclasses import replace

    return replace(f, operator=None)
