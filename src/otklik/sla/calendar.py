"""Business-time arithmetic on a working calendar. Pure: no database, no Django.

A calendar is a time zone, working spans per weekday and exceptions by date (public
holidays, moved working days, shortened days). Spans are minutes from local midnight,
[start, end) with end ≤ 1440. Local times are turned into instants with `zoneinfo`, so a
clock change inside a working span shortens or lengthens that span as it does in real life.
All returned datetimes are aware; arithmetic is exact to the microsecond (timedelta).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Span = tuple[int, int]  # minutes from local midnight, start < end ≤ 1440
DAY_MINUTES = 24 * 60
# A calendar with no working time at all would make "add" search forever.
MAX_SEARCH_DAYS = 3 * 366


@dataclass(frozen=True)
class CalendarSpec:
    """What `add_business_time` needs to know about a calendar."""

    tz: str = "Europe/Moscow"
    is_24x7: bool = False
    weekly: Mapping[int, tuple[Span, ...]] = field(default_factory=dict)
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)

    def spans_on(self, day: date) -> tuple[Span, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly.get(day.weekday(), ())

    @property
    def usual_spans(self) -> tuple[Span, ...]:
        """Hours of a working day made from a day off, when the exception gives none."""
        for weekday in range(7):
            if self.weekly.get(weekday):
                return self.weekly[weekday]
        return ((9 * 60, 18 * 60),)


WALL_CLOCK = CalendarSpec(is_24x7=True)


def parse_hhmm(value: str) -> int:
    """'09:30' → 570; '24:00' → 1440."""
    try:
        hours, minutes = str(value).strip().split(":")
        total = int(hours) * 60 + int(minutes)
    except ValueError as exc:
        raise ValueError(f"time must look like HH:MM, got {value!r}") from exc
    if not 0 <= int(minutes) < 60 or not 0 <= total <= DAY_MINUTES:
        raise ValueError(f"time out of range: {value!r}")
    return total


def normalise_spans(spans) -> tuple[Span, ...]:
    """Sort, check and merge overlapping or touching spans."""
    clean = []
    for start, end in spans:
        if not 0 <= start < end <= DAY_MINUTES:
            raise ValueError(f"a span must start before it ends within a day: {start}-{end}")
        clean.append((start, end))
    clean.sort()
    merged: list[Span] = []
    for start, end in clean:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def parse_weekly(weekly_hours: Mapping) -> dict[int, tuple[Span, ...]]:
    """{"0": [["09:00", "18:00"]], ...} → {0: ((540, 1080),), ...}."""
    result: dict[int, tuple[Span, ...]] = {}
    for key, spans in (weekly_hours or {}).items():
        weekday = int(key)
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {key!r}")
        result[weekday] = normalise_spans((parse_hhmm(a), parse_hhmm(b)) for a, b in spans)
    return result


def time_to_minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of local `day` + `minute` (1440 is the next midnight)."""
    if minute >= DAY_MINUTES:
        day, minute = day + timedelta(days=1), minute - DAY_MINUTES
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    # Round-trip so a non-existent local time (spring-forward gap) maps to a real instant.
    return local.astimezone(UTC)


def _intervals(spec: CalendarSpec, first_day: date) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals as UTC instants, day by day from `first_day`, never overlapping."""
    tz = ZoneInfo(spec.tz)
    last_end: datetime | None = None
    for offset in range(MAX_SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        for start_min, end_min in spec.spans_on(day):
            start, end = _instant(day, start_min, tz), _instant(day, end_min, tz)
            if last_end is not None and start < last_end:
                start = last_end  # a fall-back hour must not be counted twice
            if end <= start:
                continue
            last_end = end
            yield start, end
    raise ValueError("the calendar has no working time within three years")


def _local_date(spec: CalendarSpec, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(spec.tz)).date()


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")


def add_business(spec: CalendarSpec, start: datetime, amount: timedelta) -> datetime:
    """The instant when `amount` of working time has passed since `start`."""
    _require_aware(start)
    if amount < timedelta(0):
        raise ValueError("amount must not be negative")
    if spec.is_24x7:
        return start + amount
    if amount == timedelta(0):
        return start
    cursor = start.astimezone(UTC)
    left = amount
    # Start a day early: a span of the previous local day may still be running in UTC terms.
    # `_intervals` never ends: it raises when three years hold no working time.
    intervals = _intervals(spec, _local_date(spec, start) - timedelta(days=1))
    while True:
        begin, end = next(intervals)
        if end <= cursor:
            continue
        begin = max(begin, cursor)
        available = end - begin
        if left <= available:
            return (begin + left).astimezone(start.tzinfo)
        left -= available


def business_between(spec: CalendarSpec, a: datetime, b: datetime) -> timedelta:
    """Working time from `a` to `b`; negative when `b` is before `a`."""
    _require_aware(a)
    _require_aware(b)
    if b < a:
        return -business_between(spec, b, a)
    if spec.is_24x7:
        return b - a
    a_utc, b_utc = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta(0)
    days = (_local_date(spec, b) - _local_date(spec, a)).days + 2
    tz = ZoneInfo(spec.tz)
    first = _local_date(spec, a) - timedelta(days=1)
    last_end: datetime | None = None
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        for start_min, end_min in spec.spans_on(day):
            start, end = _instant(day, start_min, tz), _instant(day, end_min, tz)
            if last_end is not None and start < last_end:
                start = last_end
            if end <= start:
                continue
            last_end = end
            lo, hi = max(start, a_utc), min(end, b_utc)
            if hi > lo:
                total += hi - lo
    return total


def add_business_time(spec: CalendarSpec, start: datetime, minutes: float) -> datetime:
    """`add_business` in minutes."""
    return add_business(spec, start, timedelta(minutes=minutes))


def business_minutes_between(spec: CalendarSpec, a: datetime, b: datetime) -> float:
    """`business_between` in minutes."""
    return business_between(spec, a, b) / timedelta(minutes=1)


def is_working_instant(spec: CalendarSpec, moment: datetime) -> bool:
    """True when `moment` lies in a working span, its ends included."""
    if spec.is_24x7:
        return True
    utc = moment.astimezone(UTC)
    day = _local_date(spec, moment) - timedelta(days=1)
    intervals = _intervals(spec, day)  # never ends (see add_business)
    while True:
        begin, end = next(intervals)
        if begin > utc:
            return False
        if utc <= end:
            return True
