"""Keeping `HourlyRollup` equal to a recomputation from the raw rows, and `DailyRollup`
equal to the sum of each local day's hourly rows.

The unit of work is the hour: `refresh` recomputes whole hours from the raw rows and
replaces their rollup rows in one transaction, so a refresh is idempotent and the result
never depends on what was there before; then it rewrites the daily rows of the local days
those hours touch from the hourly rows (one INSERT … SELECT … GROUP BY per day), so the
daily level can never disagree with the hourly one. `rollup_scan` (periodic, every 5
minutes) refreshes the hours that may have changed since its watermark: the hours since the
watermark minus a look-back of N+1 days (FCR of a case can still change N days after its
resolution; chats and replies become misses once their threshold passes), plus the hours of
older cases and ratings edited since the watermark. `rebuild` recomputes any range of
history.

Why a scan and not a call from the recording services: cases, chat and portal sit below
analytics and must not import it; a scan reads what they wrote, costs them nothing on the
hot path, and cannot drift from the definitions because it always recomputes from rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from otklik.analytics import facts
from otklik.analytics.models import DailyRollup, HourlyRollup, NpsSurvey, RollupWatermark
from otklik.cases.models import Case, CaseEvent, Interaction
from otklik.chat.models import ChatRating
from otklik.portal.models import CsiRating, PortalAnswer

logger = logging.getLogger(__name__)
WATERMARK = "hourly"
HOUR = timedelta(hours=1)


def lookback() -> timedelta:
    longest_sl = max(settings.OTKLIK_SL_SECONDS.values())
    return timedelta(days=settings.OTKLIK_FCR_REPEAT_DAYS + 1, seconds=longest_sl)


def day_start(day: date) -> datetime:
    """The instant a local day (TIME_ZONE) starts."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def local_days(start: datetime, end: datetime) -> list[date]:
    """The local days that [start, end) touches."""
    first = timezone.localdate(start)
    last = timezone.localdate(end - timedelta(microseconds=1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _daily_sql() -> str:
    table, hourly = DailyRollup._meta.db_table, HourlyRollup._meta.db_table
    quote = connection.ops.quote_name
    keys = ", ".join(quote(c) for c in facts.DIMENSIONS)
    sums = ", ".join(f"SUM({quote(c)})" for c in facts.COUNTERS)
    # Identifiers from model metadata, quoted; the day and bounds go as parameters.
    return (
        f"INSERT INTO {quote(table)} ({quote('day')}, {keys}, "  # noqa: S608
        f"{', '.join(quote(c) for c in facts.COUNTERS)}) "
        f"SELECT %s, {keys}, {sums} FROM {quote(hourly)} "
        f"WHERE {quote('hour')} >= %s AND {quote('hour')} < %s GROUP BY {keys}"
    )


@transaction.atomic
def refresh_days(days: Iterable[date]) -> int:
    """Rewrite the daily rows of these local days from their hourly rows."""
    sql, written = _daily_sql(), 0
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for day in sorted(set(days)):
            start, end = day_start(day), day_start(day + timedelta(days=1))
            DailyRollup.objects.filter(day=start).delete()
            cursor.execute(sql, [adapt(start), adapt(start), adapt(end)])
            written += max(cursor.rowcount, 0)
    return written


@transaction.atomic
def refresh(
    *, since: datetime, until: datetime, now: datetime | None = None, daily: bool = True
) -> int:
    """Recompute the whole hours covering [since, until) and (unless `daily` is False,
    when the caller does it once for many hours) the daily rows of their local days;
    returns the hourly rows written."""
    now = now or timezone.now()
    start = facts.floor_hour(since)
    end = facts.floor_hour(until)
    if end < until:
        end += HOUR
    buckets = facts.compute(start, end, now=now)
    HourlyRollup.objects.filter(hour__gte=start, hour__lt=end).delete()
    rows = [
        HourlyRollup(
            hour=hour, team_id=team, operator_id=op, channel=channel, topic_id=topic, **counters
        )
        for (hour, team, op, channel, topic), counters in buckets.items()
        if any(counters.values())
    ]
    HourlyRollup.objects.bulk_create(rows, batch_size=2000)
    if daily:
        refresh_days(local_days(start, end))
    return len(rows)


def _refresh_hours(hours: set[datetime], now: datetime) -> int:
    written = 0
    for hour in sorted(hours):
        written += refresh(since=hour, until=hour + HOUR, now=now, daily=False)
    refresh_days(day for hour in hours for day in local_days(hour, hour + HOUR))
    return written


def earliest_data() -> datetime | None:
    firsts = [
        Case.objects.aggregate(m=Min("created_at"))["m"],
        Interaction.objects.aggregate(m=Min("started_at"))["m"],
    ]
    firsts = [f for f in firsts if f is not None]
    return min(firsts) if firsts else None


def rebuild(
    *, since: datetime | None = None, until: datetime | None = None, now: datetime | None = None
) -> int:
    """Recompute [since, until) day by day (all history by default; `since` is taken back
    to its local midnight, so each step is one local day) and move the watermark to `now`.
    Each day is its own transaction, so a long rebuild is resumable."""
    now = now or timezone.now()
    ids = top_ids()
    since = since or earliest_data()
    if since is None:
        _set_watermark(now, ids)
        return 0
    until = until or now
    written, cursor = 0, day_start(timezone.localdate(since))
    while cursor < until:
        step = min(day_start(timezone.localdate(cursor) + timedelta(days=1)), until)
        written += refresh(since=cursor, until=step, now=now)
        cursor = step
    _set_watermark(now, ids)
    return written


# Insert-only sources: (key, model, the event times a new row can change).
SOURCES = (
    ("interaction", Interaction, ("started_at", "case__resolved_at")),
    ("case", Case, ("created_at", "resolved_at")),
    ("case_event", CaseEvent, ("case__resolved_at",)),
    ("csi", CsiRating, ("created_at",)),
    ("chat_rating", ChatRating, ("created_at",)),
    ("portal_answer", PortalAnswer, ("posted_at",)),
    ("nps", NpsSurvey, ("answered_at",)),
)


def top_ids() -> dict[str, int]:
    return {key: model.objects.aggregate(m=Max("pk"))["m"] or 0 for key, model, _f in SOURCES}


def _late_rows(last: dict, top: dict, since: datetime) -> set[datetime]:
    """Hours behind `since` touched by rows inserted after the last scan (backdated)."""
    hours: set[datetime] = set()
    repeat = timedelta(days=settings.OTKLIK_FCR_REPEAT_DAYS)
    for key, model, fields in SOURCES:
        rows = model.objects.filter(pk__gt=last.get(key, 0), pk__lte=top[key])
        for values in rows.values_list(*fields).iterator(chunk_size=5000):
            for at in values:
                if at is not None and at < since:
                    hours.add(facts.floor_hour(at))
        if key == "case":
            # A backdated case can be the repeat that takes FCR from an earlier resolution.
            backdated = rows.filter(created_at__lt=since + repeat)
            for client_id, topic_id, created in backdated.values_list(
                "client_id", "topic_id", "created_at"
            ):
                earlier = Case.objects.filter(
                    client_id=client_id,
                    topic_id=topic_id,
                    resolved_at__gte=created - repeat,
                    resolved_at__lt=min(created, since),
                )
                hours |= {
                    facts.floor_hour(at) for at in earlier.values_list("resolved_at", flat=True)
                }
    return hours


def _set_watermark(at: datetime, ids: dict[str, int]) -> None:
    RollupWatermark.objects.update_or_create(
        name=WATERMARK,
        defaults={"computed_until": at, "last_ids": ids, "updated_at": timezone.now()},
    )


def rollup_scan(now: datetime | None = None) -> int:
    """Periodic: bring the rollups up to date from the watermark (see the module doc)."""
    now = now or timezone.now()
    with transaction.atomic():
        mark = RollupWatermark.objects.select_for_update().filter(name=WATERMARK).first()
        if mark is None:
            written = rebuild(now=now)
            logger.info("analytics: first rollup build, %s rows", written)
            return written
        since = min(mark.computed_until, now) - lookback()
        top = top_ids()
        # Older rows edited or inserted (backdated) since the watermark: their hours are
        # refreshed one by one.
        stale = _late_rows(mark.last_ids or {}, top, since)
        edited = Case.objects.filter(updated_at__gt=mark.computed_until)
        for created, resolved in edited.values_list("created_at", "resolved_at"):
            for at in (created, resolved):
                if at is not None and at < since:
                    stale.add(facts.floor_hour(at))
        for at in CsiRating.objects.filter(
            updated_at__gt=mark.computed_until, created_at__lt=since
        ).values_list("created_at", flat=True):
            stale.add(facts.floor_hour(at))
        written = refresh(since=since, until=now + HOUR, now=now)
        written += _refresh_hours(stale, now)
        mark.computed_until, mark.last_ids, mark.updated_at = now, top, timezone.now()
        mark.save(update_fields=["computed_until", "last_ids", "updated_at"])
    return written
