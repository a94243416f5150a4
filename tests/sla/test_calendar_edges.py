"""Calendar edges no whole-hour example reaches: minutes, the ends of a span, the hour a
clock skips, refusals and their words (mutation survivors of issue 19, docs/testing.md)."""

from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from otklik.sla.calendar import (
    WALL_CLOCK,
    CalendarSpec,
    add_business,
    business_between,
    is_working_instant,
    normalise_spans,
    parse_hhmm,
    parse_weekly,
    time_to_minutes,
)


@pytest.fixture(autouse=True)
def _in_russian():
    """The words are checked in Russian, whatever language an earlier test left active."""
    with translation.override("ru"):
        yield


MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")  # clocks go 02:00 -> 03:00 on 29 March 2026
WEEKDAYS_9_TO_18 = CalendarSpec(weekly={d: ((540, 1080),) for d in range(5)})


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("09:30", 570), ("00:00", 0), ("24:00", 1440), (" 7:05 ", 425), ("23:59", 1439)],
)
def test_times_of_day_count_their_minutes(text, minutes):
    assert parse_hhmm(text) == minutes


@pytest.mark.parametrize("text", ["09:60", "24:01", "25:00", "-1:00", "10:-5"])
def test_times_out_of_range_are_refused(text):
    with pytest.raises(ValueError, match=r"^time out of range: "):
        parse_hhmm(text)


@pytest.mark.parametrize("text", ["0930", "ab:cd", "9:30:00", ""])
def test_times_not_shaped_hh_mm_are_refused(text):
    with pytest.raises(ValueError, match=r"^time must look like HH:MM, got "):
        parse_hhmm(text)


def test_a_clock_time_counts_minutes_from_midnight():
    assert time_to_minutes(time(9, 30)) == 570
    assert time_to_minutes(time(0, 1)) == 1


def test_touching_and_overlapping_spans_merge_and_bad_ones_are_refused():
    assert normalise_spans([(600, 660), (540, 600)]) == ((540, 660),)
    assert normalise_spans([(540, 700), (600, 660), (800, 900)]) == ((540, 700), (800, 900))
    assert normalise_spans([(0, 1440)]) == ((0, 1440),)
    for start, end in [(600, 600), (-1, 10), (0, 1441), (700, 600)]:
        with pytest.raises(ValueError) as refused:
            normalise_spans([(start, end)])
        assert str(refused.value) == (
            f"a span must start before it ends within a day: {start}-{end}"
        )


def test_weekly_hours_name_weekdays_zero_to_six():
    assert parse_weekly({"6": [["09:30", "12:00"]]}) == {6: ((570, 720),)}
    assert parse_weekly({"0": [["09:00", "12:00"], ["11:00", "13:15"]]}) == {0: ((540, 795),)}
    for key in ("7", "-1"):
        with pytest.raises(
            ValueError, match=r"^weekday must be 0 \(Monday\) to 6 \(Sunday\), got '"
        ):
            parse_weekly({key: [["09:00", "18:00"]]})


def test_an_exception_day_wins_over_the_weekday_and_usual_spans_come_from_a_working_day():
    spec = CalendarSpec(
        weekly={2: ((600, 660),)},
        exceptions={date(2026, 12, 2): ((540, 600),)},  # a Wednesday
    )
    assert spec.spans_on(date(2026, 12, 2)) == ((540, 600),)
    assert spec.spans_on(date(2026, 12, 9)) == ((600, 660),)
    assert spec.usual_spans == ((600, 660),)
    assert CalendarSpec().usual_spans == ((540, 1080),)


def test_half_hour_opening_is_kept():
    spec = CalendarSpec(weekly={d: ((parse_hhmm("09:30"), 1080),) for d in range(5)})
    # Monday 7 December 2026, 08:00: work starts 09:30, so one hour ends at 10:30.
    assert add_business(spec, msk(2026, 12, 7, 8, 0), timedelta(hours=1)) == msk(
        2026, 12, 7, 10, 30
    )
    assert business_between(spec, msk(2026, 12, 7, 9, 0), msk(2026, 12, 7, 10, 0)) == timedelta(
        minutes=30
    )


def test_an_amount_that_ends_exactly_at_closing_time_ends_that_day():
    start = msk(2026, 12, 7, 17, 0)  # Monday
    assert add_business(WEEKDAYS_9_TO_18, start, timedelta(hours=1)) == msk(2026, 12, 7, 18, 0)
    assert add_business(WEEKDAYS_9_TO_18, start, timedelta(minutes=61)) == msk(2026, 12, 8, 9, 1)


def test_add_keeps_the_callers_time_zone_and_refuses_a_negative_amount():
    start = datetime(2026, 12, 7, 14, 0, tzinfo=ZoneInfo("UTC"))  # 17:00 in Moscow
    result = add_business(WEEKDAYS_9_TO_18, start, timedelta(hours=2))
    assert result.tzinfo == ZoneInfo("UTC") and result == msk(2026, 12, 8, 10, 0)
    assert add_business(WEEKDAYS_9_TO_18, start, timedelta(0)) is start
    with pytest.raises(ValueError, match=r"^amount must not be negative$"):
        add_business(WEEKDAYS_9_TO_18, start, timedelta(seconds=-1))
    with pytest.raises(ValueError, match=r"^datetimes must be timezone-aware$"):
        add_business(WEEKDAYS_9_TO_18, datetime(2026, 12, 7, 9, 0), timedelta(hours=1))


def test_between_counts_only_working_time_and_is_negative_backwards():
    a, b = msk(2026, 12, 7, 17, 0), msk(2026, 12, 8, 10, 0)
    assert business_between(WEEKDAYS_9_TO_18, a, b) == timedelta(hours=2)
    assert business_between(WEEKDAYS_9_TO_18, b, a) == -timedelta(hours=2)
    assert business_between(WALL_CLOCK, a, b) == timedelta(hours=17)
    # Friday 18:00 to Monday 09:00: nothing.
    assert business_between(
        WEEKDAYS_9_TO_18, msk(2026, 12, 11, 18, 0), msk(2026, 12, 14, 9, 0)
    ) == timedelta(0)
    # A whole week from Monday 00:00: five working days.
    assert business_between(
        WEEKDAYS_9_TO_18, msk(2026, 12, 7, 0, 0), msk(2026, 12, 14, 0, 0)
    ) == timedelta(hours=45)
    for naive_first in (True, False):
        naive = datetime(2026, 12, 7, 9, 0)
        args = (naive, b) if naive_first else (a, naive)
        with pytest.raises(ValueError, match="timezone-aware"):
            business_between(WEEKDAYS_9_TO_18, *args)


def test_the_hour_the_clock_skips_is_not_worked():
    night = CalendarSpec(tz="Europe/Berlin", weekly={d: ((60, 240),) for d in range(7)})
    day_before = datetime(2026, 3, 28, 0, 0, tzinfo=BERLIN)
    spring_day = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    day_after = datetime(2026, 3, 30, 0, 0, tzinfo=BERLIN)
    assert business_between(night, day_before, spring_day) == timedelta(hours=3)
    assert business_between(night, spring_day, day_after) == timedelta(hours=2)
    # 01:00 + 2 h 30 min: the night's two real hours, then 30 minutes the next night.
    start = datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)
    assert add_business(night, start, timedelta(minutes=150)) == datetime(
        2026, 3, 30, 1, 30, tzinfo=BERLIN
    )


def test_a_span_inside_the_skipped_hour_is_no_time_at_all():
    gap = CalendarSpec(tz="Europe/Berlin", weekly={d: ((120, 180),) for d in range(7)})
    assert business_between(
        gap,
        datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN),
        datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN),
    ) == timedelta(hours=1)  # only the 30th: the 29th's 02:00-03:00 does not exist
    assert not is_working_instant(gap, datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN))
    # 03:00 summer time is the instant both ends of the vanished span map to: not working.
    assert not is_working_instant(gap, datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN))


def test_a_calendar_without_working_time_says_so_instead_of_searching_forever():
    closed = CalendarSpec(weekly={})
    start = msk(2026, 12, 7, 9, 0)
    with pytest.raises(ValueError, match=r"^the calendar has no working time within three years$"):
        add_business(closed, start, timedelta(minutes=1))
    with pytest.raises(ValueError, match=r"^the calendar has no working time"):
        is_working_instant(closed, start)


class _NoOffset(tzinfo):
    """A time zone that does not know its offset: such a datetime is not aware."""

    def utcoffset(self, dt):
        return None


def test_a_time_zone_without_an_offset_is_refused_as_naive():
    vague = datetime(2026, 12, 7, 9, 0, tzinfo=_NoOffset())
    with pytest.raises(ValueError, match=r"^datetimes must be timezone-aware$"):
        business_between(WEEKDAYS_9_TO_18, vague, msk(2026, 12, 7, 10, 0))


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (msk(2026, 12, 7, 9, 0), True),  # the opening minute
        (msk(2026, 12, 7, 18, 0), True),  # the closing minute
        (msk(2026, 12, 7, 8, 59), False),
        (msk(2026, 12, 7, 18, 1), False),
        (msk(2026, 12, 12, 12, 0), False),  # Saturday
    ],
)
def test_working_instant_includes_the_ends_of_a_span(moment, working):
    assert is_working_instant(WEEKDAYS_9_TO_18, moment) is working
    assert is_working_instant(WALL_CLOCK, moment) is True


def test_no_time_passes_between_an_instant_and_itself():
    moment = msk(2026, 12, 7, 12, 0)
    assert business_between(WEEKDAYS_9_TO_18, moment, moment) == timedelta(0)
    assert add_business(WEEKDAYS_9_TO_18, moment, timedelta(0)) == moment
