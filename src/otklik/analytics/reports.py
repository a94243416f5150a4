"""The weekly report: last week's figures for each subscribed supervisor's scope, e-mailed
through the outbox on Monday morning (local time). Claimed per subscription with a
conditional UPDATE, so two workers never send the same week twice."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.analytics import selectors
from otklik.analytics.models import ReportSubscription
from otklik.common.links import absolute_reverse
from otklik.notifications.services import notify

SEND_FROM = time(7, 0)


def last_week(now: datetime) -> tuple[str, datetime, datetime]:
    """ISO key and [since, until) of the last full local week (Monday to Monday)."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(days=7)
    year, week, _day = start.isocalendar()
    return (
        f"{year}-W{week:02d}",
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(monday, time.min, tzinfo=tz),
    )


def _line(label: str, value, unit: str = "") -> str:
    return f"{label}: {'—' if value is None else f'{value}{unit}'}"


def report_text(sub: ReportSubscription, since: datetime, until: datetime) -> str:
    scope = selectors.scope_for(sub.user)
    f = selectors.Filters(period="custom", since=since, until=until)
    now = selectors.figures(selectors.totals(selectors.rollups(scope, f)))
    before = selectors.figures(selectors.totals(selectors.rollups(scope, f.previous)))
    lines = [
        _("Weekly report") + f" {timezone.localdate(since):%d.%m} — "
        f"{timezone.localdate(until - timedelta(seconds=1)):%d.%m.%Y}",
        "",
    ]
    for key, label, unit in (
        ("contacts", _("Contacts"), ""),
        ("csi", _("CSI, mean 1–5"), ""),
        ("nps", "NPS", ""),
        ("fcr", "FCR", " %"),
        ("sl", _("Service level"), " %"),
        ("aht", _("AHT, s"), ""),
        ("portal_share", _("Answers in ЛК within 24 h"), " %"),
    ):
        lines.append(
            _line(label, now[key], unit) + "  (" + _line(_("before"), before[key], unit) + ")"
        )
    link = absolute_reverse("analytics:dashboard") + "?" + f.as_query()
    lines += ["", link]
    return "\n".join(lines)


def weekly_report_scan(now: datetime | None = None) -> int:
    """Periodic (hourly): from Monday 07:00 local, send last week's report once."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.weekday() == 0 and local.time() < SEND_FROM:
        return 0
    key, since, until = last_week(now)
    sent = 0
    for sub in ReportSubscription.objects.exclude(last_week=key).select_related("user"):
        if not sub.user.is_active:
            continue
        with transaction.atomic():
            claimed = (
                ReportSubscription.objects.filter(pk=sub.pk)
                .exclude(last_week=key)
                .update(last_week=key)
            )
            if not claimed:
                continue
            notify(
                key=f"weekly-report:{sub.pk}:{key}",
                channel="email",
                address=sub.email,
                subject=_("Weekly report") + f" {key}",
                body=report_text(sub, since, until),
                user=sub.user,
            )
        sent += 1
    return sent
