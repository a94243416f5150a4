"""Business-calendar arithmetic: examples from a Russian working year, then properties."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from otklik.sla.calendar import (
    WALL_CLOCK,
    CalendarSpec,
    add_business,
    add_business_time,
    business_between,
    business_minutes_between,
    is_working_instant,
    normalise_spans,
    parse_weekly,
)

MSK = ZoneInfo("Europe/Moscow")
NINE_TO_SIX = {d: ((9 * 60, 18 * 60),) for d in range(5)}
# November 2025 in Russia: Saturday 1 November worked instead of Monday 3 November;
# 4 November is the National Unity Day.
NOVEMBER_2025 = CalendarSpec(
    weekly=NINE_TO_SIX,
    exceptions={
        date(2025, 11, 1): ((9 * 60, 18 * 60),),
        date(2025, 11, 3): (),
        date(2025, 11, 4): (),
    },
)


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


def test_friday_evening_rolls_over_the_weekend():
    spec = CalendarSpec(weekly=NINE_TO_SIX)
    assert add_business_time(spec, msk(2025, 10, 17, 17, 0), 120) == msk(2025, 10, 20, 10, 0)


def test_start_outside_hours_counts_from_next_opening():
    spec = CalendarSpec(weekly=NINE_TO_SIX)
    assert add_business_time(spec, msk(2025, 10, 20, 6, 0), 30) == msk(2025, 10, 20, 9, 30)
    assert add_business_time(spec, msk(2025, 10, 18, 12, 0), 60) == msk(2025, 10, 20, 10, 0)


def test_moved_working_saturday_is_used():
    assert add_business_time(NOVEMBER_2025, msk(2025, 10, 31, 17, 0), 120) == msk(
        2025, 11, 1, 10, 0
    )


def test_public_holidays_are_skipped():
    # Saturday 1 Nov 17:00 + 2 h: Sunday, Monday (moved), Tuesday (holiday) → Wednesday.
    assert add_business_time(NOVEMBER_2025, msk(2025, 11, 1, 17, 0), 120) == msk(2025, 11, 5, 10, 0)
    assert business_minutes_between(
        NOVEMBER_2025, msk(2025, 11, 1, 17, 0), msk(2025, 11, 5, 10, 0)
    ) == pytest.approx(120)


def test_lunch_break_is_not_counted():
    spec = CalendarSpec(weekly={0: ((9 * 60, 13 * 60), (14 * 60, 18 * 60))})
    assert add_business_time(spec, msk(2025, 10, 20, 12, 30), 60) == msk(2025, 10, 20, 14, 30)


def test_span_until_midnight_joins_the_next_day():
    spec = CalendarSpec(weekly={0: ((20 * 60, 24 * 60),), 1: ((0, 2 * 60),)})
    assert add_business_time(spec, msk(2025, 10, 20, 23, 0), 120) == msk(2025, 10, 21, 1, 0)


def test_dst_change_inside_a_working_span_counts_real_time():
    # Berlin, 30 March 2025: clocks jump 02:00 → 03:00; a 00:00–06:00 span lasts 5 hours.
    spec = CalendarSpec(tz="Europe/Berlin", weekly={6: ((0, 6 * 60),)})
    start = datetime(2025, 3, 30, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert business_between(spec, start, start + timedelta(days=1)) == timedelta(hours=5)


def test_24x7_is_wall_clock():
    start = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    assert add_business_time(WALL_CLOCK, start, 1500) == start + timedelta(minutes=1500)


def test_weekly_hours_parsing_and_validation():
    assert parse_weekly({"0": [["09:00", "13:00"], ["12:00", "18:00"]], "5": []}) == {
        0: ((540, 1080),),
        5: (),
    }
    assert normalise_spans([(600, 700), (0, 60)]) == ((0, 60), (600, 700))
    for bad in ({"7": [["09:00", "18:00"]]}, {"0": [["18:00", "09:00"]]}, {"0": [["9", "x"]]}):
        with pytest.raises(ValueError):
            parse_weekly(bad)


def test_a_calendar_without_working_time_fails_loudly():
    with pytest.raises(ValueError):
        add_business_time(CalendarSpec(weekly={}), msk(2025, 1, 1), 1)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_business_time(WALL_CLOCK, datetime(2025, 1, 1), 1)


# --- properties ---------------------------------------------------------------------------

ZONES = ["Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]


@st.composite
def day_spans(draw, allow_empty=True):
    count = draw(st.integers(min_value=0 if allow_empty else 1, max_value=3))
    points = sorted(
        draw(
            st.lists(
                st.integers(min_value=0, max_value=1440),
                min_size=2 * count,
                max_size=2 * count,
                unique=True,
            )
        )
    )
    return normalise_spans(zip(points[::2], points[1::2], strict=True))


@st.composite
def calendars(draw):
    weekly = {day: draw(day_spans()) for day in range(7)}
    if not any(weekly.values()):
        weekly[draw(st.integers(0, 6))] = draw(day_spans(allow_empty=False))
    exception_days = draw(
        st.lists(st.dates(date(2024, 12, 20), date(2026, 3, 31)), max_size=12, unique=True)
    )
    exceptions = {}
    for day in exception_days:
        # A holiday, or a day off made a working day, or a shortened day.
        exceptions[day] = draw(st.one_of(st.just(()), day_spans(allow_empty=False)))
    return CalendarSpec(tz=draw(st.sampled_from(ZONES)), weekly=weekly, exceptions=exceptions)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2026, 1, 1),
    timezones=st.just(UTC),
)
amounts = st.integers(min_value=1, max_value=60 * 24 * 20).map(lambda m: timedelta(minutes=m))
PROPERTY = settings(max_examples=150, deadline=None)


def fit(spec: CalendarSpec, amount: timedelta) -> timedelta:
    """Cap the amount at 40 weeks of the calendar's work, so a calendar with one working
    minute a week is not asked for a month of work (it would need centuries)."""
    weekly = sum(end - begin for spans in spec.weekly.values() for begin, end in spans)
    return min(amount, timedelta(minutes=max(weekly, 1) * 40))


@PROPERTY
@given(calendars(), instants, amounts)
def test_add_then_measure_gives_back_the_amount(spec, start, amount):
    amount = fit(spec, amount)
    due = add_business(spec, start, amount)
    assert due >= start
    assert business_between(spec, start, due) == amount


@PROPERTY
@given(calendars(), instants, amounts)
def test_result_lies_in_working_time(spec, start, amount):
    amount = fit(spec, amount)
    assert is_working_instant(spec, add_business(spec, start, amount))


@PROPERTY
@given(calendars(), instants, amounts, amounts)
def test_monotonic_in_amount_and_start(spec, start, a, b):
    a, b = fit(spec, a), fit(spec, b)
    small, big = sorted((a, b))
    assert add_business(spec, start, small) <= add_business(spec, start, big)
    later = start + (big - small)
    assert add_business(spec, start, small) <= add_business(spec, later, small)


@PROPERTY
@given(calendars(), instants, amounts)
def test_never_faster_than_the_wall_clock(spec, start, amount):
    amount = fit(spec, amount)
    assert add_business(spec, start, amount) - start >= amount


@PROPERTY
@given(calendars(), st.dates(date(2025, 1, 1), date(2025, 12, 31)))
def test_holidays_have_no_business_time(spec, day):
    holiday = CalendarSpec(spec.tz, False, spec.weekly, {**spec.exceptions, day: ()})
    tz = ZoneInfo(spec.tz)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    assert business_between(holiday, start, end) == timedelta(0)


@PROPERTY
@given(
    st.sampled_from(["Europe/Moscow", "Asia/Kolkata", "UTC"]),
    st.dates(date(2025, 1, 1), date(2025, 12, 31)),
    day_spans(allow_empty=False),
)
def test_moved_working_day_counts_its_hours(tz_name, day, spans):
    # Zones without clock changes: a day's business time is the sum of its spans.
    weekend_only_weekdays = {d: ((9 * 60, 18 * 60),) for d in range(5)}
    spec = CalendarSpec(tz_name, False, weekend_only_weekdays, {day: spans})
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    total = business_between(spec, start, start + timedelta(days=1))
    assert total == timedelta(minutes=sum(end - begin for begin, end in spans))


@PROPERTY
@given(st.sampled_from(ZONES), instants, amounts)
def test_24x7_and_all_day_calendars_equal_wall_clock(tz_name, start, amount):
    assert add_business(CalendarSpec(tz_name, True), start, amount) == start + amount
    all_day = CalendarSpec(tz_name, False, {d: ((0, 1440),) for d in range(7)})
    assert add_business(all_day, start, amount) == start + amount


@PROPERTY
@given(calendars(), instants, instants)
def test_between_is_antisymmetric_and_additive(spec, a, b):
    assume(a != b)
    mid = min(a, b) + abs(b - a) / 2
    assert business_between(spec, a, b) == -business_between(spec, b, a)
    lo, hi = min(a, b), max(a, b)
    assert business_between(spec, lo, hi) == business_between(spec, lo, mid) + business_between(
        spec, mid, hi
    )
