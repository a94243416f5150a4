"""SLA policies and business calendars held in memory, reloaded when they change.

Every case intake needs the matching policies and the team's calendar. Reading them
through the ORM cost about 40 % of opening a case; they change a few times a year. The
snapshot is checked against the "sla" configuration generation (one primary-key read)
before each use, and signals bump the generation in the transaction that changes a
policy, a calendar, a calendar day or a calendar's teams and departments, so every
process sees a change as soon as it is committed.
"""

from dataclasses import dataclass

from otklik.common import generations
from otklik.sla import conf
from otklik.sla.calendar import CalendarSpec, parse_weekly, time_to_minutes
from otklik.sla.models import BusinessCalendar, CalendarDay, SlaPolicy

GENERATION = "sla"


@dataclass(frozen=True)
class SlaSnapshot:
    """Active policies and every calendar with its computed spec, as of one generation."""

    policies: tuple[SlaPolicy, ...]
    calendars: dict[int, BusinessCalendar]
    specs: dict[int, CalendarSpec]
    team_calendar: dict[int, int]
    department_calendar: dict[int, int]
    default_calendar: int | None


def build_spec(calendar: BusinessCalendar, days: list[CalendarDay]) -> CalendarSpec:
    """The pure description of a stored calendar and its exception days."""
    if calendar.is_24x7:
        return CalendarSpec(tz=calendar.timezone, is_24x7=True)
    weekly = parse_weekly(calendar.weekly_hours)
    spec = CalendarSpec(tz=calendar.timezone, weekly=weekly)
    exceptions = {}
    for day in days:
        if not day.is_working:
            exceptions[day.date] = ()
        elif day.start is not None and day.end is not None:
            end = time_to_minutes(day.end) or 24 * 60
            exceptions[day.date] = ((time_to_minutes(day.start), end),)
        else:
            exceptions[day.date] = spec.usual_spans
    return CalendarSpec(tz=calendar.timezone, weekly=weekly, exceptions=exceptions)


def _load() -> SlaSnapshot:
    calendars = {c.pk: c for c in BusinessCalendar.objects.order_by("pk")}
    days: dict[int, list[CalendarDay]] = {pk: [] for pk in calendars}
    for day in CalendarDay.objects.order_by("date"):
        days.setdefault(day.calendar_id, []).append(day)
    team_calendar: dict[int, int] = {}
    for team_id, calendar_id in BusinessCalendar.teams.through.objects.values_list(
        "team_id", "businesscalendar_id"
    ):
        team_calendar[team_id] = min(calendar_id, team_calendar.get(team_id, calendar_id))
    department_calendar: dict[int, int] = {}
    for department_id, calendar_id in BusinessCalendar.departments.through.objects.values_list(
        "department_id", "businesscalendar_id"
    ):
        department_calendar[department_id] = min(
            calendar_id, department_calendar.get(department_id, calendar_id)
        )
    defaults = [pk for pk, c in calendars.items() if c.is_default]
    return SlaSnapshot(
        policies=tuple(SlaPolicy.objects.filter(is_active=True).order_by("pk")),
        calendars=calendars,
        specs={pk: build_spec(c, days[pk]) for pk, c in calendars.items()},
        team_calendar=team_calendar,
        department_calendar=department_calendar,
        default_calendar=min(defaults) if defaults else None,
    )


_cache = generations.Cached(GENERATION, _load)


def snapshot() -> SlaSnapshot:
    """The current configuration; reloaded only when its generation changed.

    Callers that need several lookups take one snapshot and pass it on (`current=`), so
    the generation is read once.
    """
    return _cache.get()


def policy_candidates(
    *, topic_id: int | None, priority: int, channel: str, current: SlaSnapshot | None = None
) -> list[SlaPolicy]:
    """Active policies that could apply to a case with these fields, for any kind."""
    return [
        p
        for p in (current or snapshot()).policies
        if (p.topic_id is None or p.topic_id == topic_id)
        and (p.priority is None or p.priority == priority)
        and (p.channel == "" or p.channel == channel)
    ]


def calendar_for(
    *,
    team_id: int | None = None,
    department_id: int | None = None,
    current: SlaSnapshot | None = None,
) -> BusinessCalendar | None:
    """The department's calendar for handoffs, else the team's, else the default one."""
    current = current or snapshot()
    for mapping, key in (
        (current.department_calendar, department_id),
        (current.team_calendar, team_id),
    ):
        if key is not None and key in mapping:
            return current.calendars[mapping[key]]
    if current.default_calendar is None:
        return None
    return current.calendars[current.default_calendar]


def spec_for(calendar: BusinessCalendar | None, current: SlaSnapshot | None = None) -> CalendarSpec:
    """The spec of a calendar (the wall clock in the fallback time zone when there is none)."""
    if calendar is None:
        return CalendarSpec(tz=conf.fallback_timezone(), is_24x7=True)
    spec = (current or snapshot()).specs.get(calendar.pk)
    if spec is None:  # not committed yet, or deleted since: read it directly
        spec = build_spec(calendar, list(calendar.days.order_by("date")))
    return spec


def connect_signals() -> None:
    """Bump the generation on every change to what the snapshot holds."""
    generations.bump_on_change(
        GENERATION,
        (SlaPolicy, BusinessCalendar, CalendarDay),
        through=(BusinessCalendar.teams.through, BusinessCalendar.departments.through),
    )
