"""Reads for the dashboard: who sees which teams, the period and filters, figures from the
rollups, and the live lists (backlog, handoffs, late answers) read from the raw rows.

Role rules (tested in tests/analytics/test_roles.py):
- a head of the centre (administrator, or a supervisor whose scope says "all teams") sees
  every team and every operator;
- a supervisor sees their own team and the teams in their scope, with each operator there;
- anyone else (an operator) sees their own figures and their team's aggregate, never
  another operator's personal figures; department specialists have no dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, Team, User
from otklik.analytics import metrics
from otklik.analytics.facts import COUNTERS, DIMENSIONS
from otklik.analytics.models import DailyRollup, DashboardScope, HourlyRollup
from otklik.cases.models import Topic
from otklik.clients.models import BusinessLine, ChannelKind

PERIODS = ("today", "week", "month", "custom")
MAX_CUSTOM_DAYS = 366


@dataclass(frozen=True)
class Scope:
    """What a viewer may see: all teams, some teams, or only themselves (+ team total)."""

    kind: str  # "all" | "teams" | "self"
    team_ids: frozenset[int] = frozenset()
    user_id: int = 0
    own_team_id: int = 0

    def sees_operators(self) -> bool:
        return self.kind in ("all", "teams")


def scope_for(user: User) -> Scope:
    """The dashboard scope of `user`; specialists and inactive users get none."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if user.is_superuser or user.role == Role.ADMIN:
        return Scope(kind="all", user_id=user.pk)
    extra = DashboardScope.objects.filter(user=user).first()
    if user.role == Role.SUPERVISOR:
        if extra is not None and extra.sees_all:
            return Scope(kind="all", user_id=user.pk)
        teams = set(extra.teams.values_list("pk", flat=True)) if extra else set()
        if user.team_id:
            teams.add(user.team_id)
        return Scope(kind="teams", team_ids=frozenset(teams), user_id=user.pk)
    if user.role == Role.SPECIALIST:
        raise PermissionDenied
    return Scope(kind="self", user_id=user.pk, own_team_id=user.team_id or 0)


@dataclass(frozen=True)
class Filters:
    """The period and the filters of one dashboard view, parsed from the query string."""

    period: str = "week"
    since: datetime = field(default_factory=timezone.now)
    until: datetime = field(default_factory=timezone.now)
    compare: bool = False
    team: int | None = None
    operator: int | None = None
    channel: str = ""
    topic: int | None = None
    line: str = ""  # a business line (BusinessLine): the topics whose line it is

    @property
    def previous(self) -> Filters:
        """The same filters over the period just before (same length)."""
        length = self.until - self.since
        return replace(self, since=self.since - length, until=self.since)

    def as_query(self, **override) -> str:
        from urllib.parse import urlencode

        values = {
            "period": self.period,
            "from": timezone.localdate(self.since).isoformat() if self.period == "custom" else "",
            "to": (timezone.localdate(self.until - timedelta(seconds=1)).isoformat())
            if self.period == "custom"
            else "",
            "compare": "1" if self.compare else "",
            "team": self.team or "",
            "operator": self.operator or "",
            "channel": self.channel,
            "topic": self.topic or "",
            "line": self.line or "",
        }
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def describe(self) -> list[tuple[str, str]]:
        """The filters in words, for exported files and the report."""
        rows = [
            (
                _("Period"),
                f"{timezone.localtime(self.since):%d.%m.%Y %H:%M} — "
                f"{timezone.localtime(self.until):%d.%m.%Y %H:%M}",
            ),
        ]
        if self.team:
            rows.append((_("Team"), str(Team.objects.filter(pk=self.team).first() or self.team)))
        if self.operator:
            who = User.objects.filter(pk=self.operator).first()
            rows.append((_("Operator"), who.display_name if who else str(self.operator)))
        if self.channel:
            rows.append((_("Channel"), str(ChannelKind(self.channel).label)))
        if self.topic:
            rows.append((_("Topic"), str(Topic.objects.filter(pk=self.topic).first() or "")))
        if self.line:
            rows.append((_("Business line"), str(BusinessLine(self.line).label)))
        return rows


def _int(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(_("%(name)s must be a number.") % {"name": name}) from None
    if number <= 0:
        raise ValidationError(_("%(name)s must be a number.") % {"name": name})
    return number


def _date(value: str | None, name: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise ValidationError(_("%(name)s must be a date (YYYY-MM-DD).") % {"name": name}) from None


def period_bounds(period: str, now: datetime, start: str = "", end: str = "") -> tuple:
    """[since, until) in local days: today; the last 7 days; the last 30 days; or the
    custom days from..to inclusive (at most a year)."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)

    def at(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=tz)

    if period == "today":
        return at(today), at(today + timedelta(days=1))
    if period == "week":
        return at(today - timedelta(days=6)), at(today + timedelta(days=1))
    if period == "month":
        return at(today - timedelta(days=29)), at(today + timedelta(days=1))
    if period == "custom":
        first, last = _date(start, _("From")), _date(end, _("To"))
        if last < first:
            raise ValidationError(_("The period ends before it starts."))
        if (last - first).days >= MAX_CUSTOM_DAYS:
            raise ValidationError(_("A period is at most a year long."))
        return at(first), at(last + timedelta(days=1))
    raise ValidationError(_("Unknown period."))


def filters_from(params, *, scope: Scope, now: datetime | None = None) -> Filters:
    """Parse and check the query string; filters outside the viewer's scope are refused."""
    now = now or timezone.now()
    period = params.get("period") or "week"
    since, until = period_bounds(period, now, params.get("from", ""), params.get("to", ""))
    channel = params.get("channel") or ""
    if channel and channel not in ChannelKind.values:
        raise ValidationError(_("Unknown channel."))
    line = params.get("line") or ""
    if line and line not in BusinessLine.values:
        raise ValidationError(_("Unknown business line."))
    f = Filters(
        period=period,
        since=since,
        until=until,
        compare=params.get("compare") == "1",
        team=_int(params.get("team"), _("Team")),
        operator=_int(params.get("operator"), _("Operator")),
        channel=channel,
        topic=_int(params.get("topic"), _("Topic")),
        line=line,
    )
    if scope.kind == "teams" and f.team and f.team not in scope.team_ids:
        raise PermissionDenied
    if scope.kind == "self" and (f.operator not in (None, scope.user_id) or f.team):
        raise PermissionDenied
    supervised = User.objects.filter(pk=f.operator or 0, team_id__in=scope.team_ids)
    if scope.kind == "teams" and f.operator and not supervised.exists():
        raise PermissionDenied
    return f


def line_topic_ids(line: str) -> list[int]:
    """The topics of a business line: those whose `Topic.business_line` is it, wherever
    they sit in the topic tree (a root groups topics for the desk, it does not decide the
    line). Topics common to every line (no line) belong to none, so they are not counted
    under each line several times."""
    return list(Topic.objects.filter(business_line=line).values_list("pk", flat=True))


def _whole_days(f: Filters) -> bool:
    def midnight(at: datetime) -> bool:
        local = timezone.localtime(at)
        return local.timetz().replace(tzinfo=None) == time.min

    return midnight(f.since) and midnight(f.until)


def level(f: Filters) -> tuple[type, str]:
    """Which rollup level a period reads: the daily rows for a period of whole local days
    longer than one day (a month is 30 rows per key instead of 720), the hourly rows
    otherwise (today, drawn per hour). Both give the same sums (daily = Σ hourly)."""
    if f.until - f.since > timedelta(days=1) and _whole_days(f):
        return DailyRollup, "day"
    return HourlyRollup, "hour"


def rollups(scope: Scope, f: Filters, *, team_aggregate: bool = False) -> QuerySet:
    """The rollup rows behind one view. For an operator the rows are their own, or with
    `team_aggregate` their team's (summed, so no other operator is shown on their own)."""
    model, at = level(f)
    qs = model.objects.filter(**{f"{at}__gte": f.since, f"{at}__lt": f.until})
    if scope.kind == "teams":
        qs = qs.filter(team_id__in=scope.team_ids)
    elif scope.kind == "self":
        qs = (
            qs.filter(team_id=scope.own_team_id)
            if team_aggregate
            else qs.filter(operator_id=scope.user_id)
        )
    if f.team:
        qs = qs.filter(team_id=f.team)
    if f.operator and not team_aggregate:
        qs = qs.filter(operator_id=f.operator)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.topic:
        qs = qs.filter(topic_id=f.topic)
    if f.line:
        qs = qs.filter(topic_id__in=line_topic_ids(f.line))
    return qs


def _sums() -> dict:
    return {name: Sum(name) for name in COUNTERS}


def totals(qs: QuerySet) -> dict[str, int]:
    row = qs.aggregate(**_sums())
    return {k: v or 0 for k, v in row.items()}


def add_counters(into: dict[str, int], row: dict) -> None:
    for name in COUNTERS:
        into[name] += row[name] or 0


def overview(qs: QuerySet, scope: Scope) -> tuple[dict[str, int], dict[str, list]]:
    """The period's totals and every breakdown from ONE pass: the rows grouped by all four
    dimensions at once (a few thousand groups at most), summed up per dimension here,
    instead of one aggregate query over the period per table."""
    total = dict.fromkeys(COUNTERS, 0)
    per: dict[str, dict] = {dim: {} for dim in BREAKDOWNS}
    for row in qs.values(*DIMENSIONS).annotate(**_sums()).order_by().iterator(chunk_size=5000):
        add_counters(total, row)
        for dim, column in BREAKDOWNS.items():
            add_counters(per[dim].setdefault(row[column], dict.fromkeys(COUNTERS, 0)), row)
    tables = {}
    for dim, groups in per.items():
        if dim == "operator" and not scope.sees_operators():
            continue
        tables[dim] = _breakdown_rows(dim, groups)
    return total, tables


def figures(t: dict[str, int]) -> dict:
    """Summed counters → the dashboard's figures (definitions in metrics.py)."""
    csi = metrics.csi_from_counts(t["csi_count"], t["csi_sum"], t["csi_good"])
    nps = metrics.nps_from_counts(t["nps_count"], t["nps_promoters"], t["nps_detractors"])
    sl = metrics.sl_from_counts(t["offered"], t["answered"], t["answered_in_sl"], t["wait_seconds"])
    return {
        "contacts": t["contacts"],
        "csi": csi.mean,
        "csi_good": csi.good_share,
        "csi_count": csi.count,
        "nps": nps.score,
        "nps_count": nps.count,
        "fcr": metrics.share(t["fcr"], t["resolved"]),
        "resolved": t["resolved"],
        "sl": sl.sl,
        "asa": sl.asa_seconds,
        "offered": sl.offered,
        "aht": metrics.mean(t["handle_seconds"], t["handled"], 1),
        "handled": t["handled"],
        "portal_share": metrics.portal_on_time_share(t["portal_answers"], t["portal_on_time"]),
        "portal_answers": t["portal_answers"],
        "portal_late": t["portal_answers"] - t["portal_on_time"],
    }


def series_counters(qs: QuerySet, f: Filters) -> list[tuple[datetime | date, dict]]:
    """Summed counters per hour for a single day, per local day otherwise; empty buckets
    filled with 0. Grouped by the stored instant (hour or day start) in SQL and bucketed
    to local time here: a time-zone conversion per row in SQL (a Python function on
    SQLite) costs seconds at scale."""
    hourly = (f.until - f.since) <= timedelta(days=1)
    at = "day" if qs.model is DailyRollup else "hour"
    buckets: dict = {}
    for row in qs.values(at).annotate(**_sums()).order_by():
        local = timezone.localtime(row[at])
        key = local.replace(minute=0, second=0, microsecond=0) if hourly else local.date()
        add_counters(buckets.setdefault(key, dict.fromkeys(COUNTERS, 0)), row)
    empty = dict.fromkeys(COUNTERS, 0)
    result = []
    if hourly:
        cursor = f.since
        while cursor < f.until:
            key = timezone.localtime(cursor).replace(minute=0, second=0, microsecond=0)
            result.append((cursor, buckets.get(key, empty)))
            cursor += timedelta(hours=1)
        return result
    day = timezone.localdate(f.since)
    while day < timezone.localdate(f.until):
        result.append((day, buckets.get(day, empty)))
        day += timedelta(days=1)
    return result


def series(qs: QuerySet, f: Filters) -> list[tuple[datetime | date, dict]]:
    """Figures per hour (a single day) or per local day."""
    return [(bucket, figures(counters)) for bucket, counters in series_counters(qs, f)]


def sum_counters(points: list[tuple[object, dict]]) -> dict[str, int]:
    """The period's totals from its series (the buckets cover the period exactly)."""
    total = dict.fromkeys(COUNTERS, 0)
    for _bucket, counters in points:
        add_counters(total, counters)
    return total


BREAKDOWNS = {
    "team": "team_id",
    "operator": "operator_id",
    "channel": "channel",
    "topic": "topic_id",
}


def breakdown(qs: QuerySet, dim: str, scope: Scope) -> list[tuple[object, str, dict]]:
    """(key, label, figures) per team/operator/channel/topic, biggest first. Operators are
    broken down only for viewers who supervise them."""
    if dim == "operator" and not scope.sees_operators():
        raise PermissionDenied
    column = BREAKDOWNS[dim]
    rows = qs.values(column).annotate(**_sums()).order_by(column)
    return _breakdown_rows(dim, {r[column]: r for r in rows})


def _breakdown_rows(dim: str, groups: dict) -> list[tuple[object, str, dict]]:
    labels = _labels(dim, list(groups))
    result = [(key, labels.get(key, "—"), figures(c)) for key, c in sorted(groups.items())]
    result.sort(key=lambda item: -(item[2]["contacts"] + item[2]["resolved"]))
    return result


def _labels(dim: str, keys: list) -> dict:
    if dim == "team":
        return dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
    if dim == "operator":
        return {u.pk: u.display_name for u in User.objects.filter(pk__in=keys)}
    if dim == "topic":
        return dict(Topic.objects.filter(pk__in=keys).values_list("pk", "name"))
    return {k: str(ChannelKind(k).label) for k in keys if k in ChannelKind.values}


def teams_for(scope: Scope) -> QuerySet:
    qs = Team.objects.order_by("name")
    return qs if scope.kind == "all" else qs.filter(pk__in=scope.team_ids)


def operators_for(scope: Scope) -> QuerySet:
    qs = User.objects.filter(is_active=True).exclude(role=Role.SPECIALIST).order_by("last_name")
    if scope.kind == "all":
        return qs
    if scope.kind == "teams":
        return qs.filter(team_id__in=scope.team_ids)
    return qs.filter(pk=scope.user_id)


def case_scope_q(scope: Scope, f: Filters, *, prefix: str = "") -> Q:
    """The same scope and filters, on cases (for the live lists and drill-downs)."""
    p = f"{prefix}__" if prefix else ""
    q = Q()
    if scope.kind == "teams":
        q &= Q(**{f"{p}team_id__in": scope.team_ids})
    elif scope.kind == "self":
        q &= Q(**{f"{p}owner_id": scope.user_id})
    if f.team:
        q &= Q(**{f"{p}team_id": f.team})
    if f.operator:
        q &= Q(**{f"{p}owner_id": f.operator})
    if f.channel:
        q &= Q(**{f"{p}channel": f.channel})
    if f.topic:
        q &= Q(**{f"{p}topic_id": f.topic})
    if f.line:
        q &= Q(**{f"{p}topic_id__in": line_topic_ids(f.line)})
    return q


# --- Relationship surveys -------------------------------------------------------------


def may_send_surveys(user: User) -> bool:
    """Supervisors and heads of the centre choose and send relationship surveys."""
    return user.is_active and (user.is_superuser or user.role in (Role.SUPERVISOR, Role.ADMIN))


@dataclass(frozen=True)
class Audience:
    """Who a relationship survey goes to; empty fields mean "any"."""

    business_line: str = ""
    segment: str = ""
    package_level: int | None = None
    channel: str = "email"


def audience_from(params) -> Audience:
    """Parse and check the screen's choices (clear errors, nothing guessed)."""
    from otklik.analytics.models import SurveyChannel
    from otklik.clients.models import Segment
    from otklik.relationship.models import PackageLevel

    line = params.get("business_line") or ""
    if line and line not in BusinessLine.values:
        raise ValidationError(_("Unknown business line."))
    segment = params.get("segment") or ""
    if segment and segment not in Segment.values:
        raise ValidationError(_("Unknown segment."))
    level = _int(params.get("package_level"), _("Package level"))
    if level is not None and not PackageLevel.objects.filter(pk=level).exists():
        raise ValidationError(_("Unknown package level."))
    channel = params.get("channel") or SurveyChannel.EMAIL
    if channel not in SurveyChannel.values:
        raise ValidationError(_("Unknown survey channel."))
    return Audience(business_line=line, segment=segment, package_level=level, channel=channel)


def audience_clients(a: Audience) -> QuerySet:
    """The clients the choices name: a business line is one the client holds a product
    of (clients.PRODUCT_KIND_LINE), the package level that of their relationship."""
    from otklik.clients.models import PRODUCT_KIND_LINE, Client, Product

    qs = Client.objects.all()
    if a.segment:
        qs = qs.filter(segment=a.segment)
    if a.business_line:
        kinds = [k for k, line in PRODUCT_KIND_LINE.items() if line == a.business_line]
        qs = qs.filter(Exists(Product.objects.filter(client=OuterRef("pk"), kind__in=kinds)))
    if a.package_level:
        qs = qs.filter(relationship__package_level_id=a.package_level)
    return qs


def _audience_conditions(a: Audience, now: datetime) -> tuple[Exists, Q]:
    """(asked within the quiet period, has a usable address on the channel — the portal
    reaches everyone) as conditions on a client."""
    from django.conf import settings

    from otklik.analytics.models import NpsSurvey, SurveyChannel
    from otklik.clients.models import ContactPoint, Reachability

    quiet = Exists(
        NpsSurvey.objects.filter(
            client=OuterRef("pk"),
            sent_at__gt=now - timedelta(days=settings.OTKLIK_NPS_QUIET_DAYS),
        )
    )
    if a.channel == SurveyChannel.PORTAL:
        return quiet, Q()
    kind = ChannelKind.EMAIL if a.channel == SurveyChannel.EMAIL else ChannelKind.PHONE
    points = ContactPoint.objects.filter(client=OuterRef("pk"), kind=kind).exclude(
        reachability=Reachability.UNREACHABLE
    )
    return quiet, Q(Exists(points))


def audience_eligible(a: Audience, now: datetime) -> QuerySet:
    """The clients who will get the survey: chosen, not in the quiet period, reachable."""
    quiet, reachable = _audience_conditions(a, now)
    return audience_clients(a).filter(~Q(quiet), reachable)


def audience_preview(a: Audience, now: datetime) -> dict[str, int]:
    """How many clients the choices name, how many the quiet period and a missing address
    leave out, and how many will get the survey — counted in SQL."""
    quiet, reachable = _audience_conditions(a, now)
    counts = {
        "matched": Count("pk"),
        "quiet": Count("pk", filter=Q(quiet)),
        "eligible": Count("pk", filter=~Q(quiet) & reachable),
    }
    if reachable:
        counts["unreachable"] = Count("pk", filter=~Q(quiet) & ~reachable)
    row = audience_clients(a).aggregate(**counts)
    return {"unreachable": 0} | {k: v or 0 for k, v in row.items()}


def campaigns_with_answers(limit: int = 20) -> list:
    """The latest relationship surveys with their answers and NPS."""
    from otklik.analytics.models import SurveyCampaign

    rows = SurveyCampaign.objects.select_related("created_by", "package_level").annotate(
        answered=Count("surveys", filter=Q(surveys__score__isnull=False)),
        promoters=Count("surveys", filter=Q(surveys__score__gte=9)),
        detractors=Count("surveys", filter=Q(surveys__score__lte=6)),
    )[:limit]
    result = []
    for c in rows:
        c.nps = metrics.nps_from_counts(c.answered, c.promoters, c.detractors).score
        result.append(c)
    return result
