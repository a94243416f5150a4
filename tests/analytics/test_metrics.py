"""The metric definitions of docs/metrics.md on hand-computed fixtures."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from otklik.analytics import metrics
from otklik.analytics.metrics import CaseFacts, HandoffFacts, Offer

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_csi_mean_and_share_of_four_and_five():
    # 5+4+3+5+1 = 18 / 5 = 3.6; 4–5: three of five = 60 %
    result = metrics.csi([5, 4, 3, 5, 1])
    assert result.count == 5 and result.mean == Decimal("3.60")
    assert result.good_share == Decimal("60.0")


def test_csi_of_nothing_is_no_figure_and_out_of_range_is_refused():
    assert metrics.csi([]).mean is None and metrics.csi([]).good_share is None
    with pytest.raises(ValueError):
        metrics.csi([6])
    with pytest.raises(ValueError):
        metrics.csi([0])


def test_csi_mean_rounds_half_up():
    # 4+5+5 = 14/3 = 4.666… → 4.67; 1+2 = 3/2 = 1.5 → 1.50
    assert metrics.csi([4, 5, 5]).mean == Decimal("4.67")
    assert metrics.csi([1, 2]).mean == Decimal("1.50")


def test_nps_classes():
    assert [metrics.nps_class(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    with pytest.raises(ValueError):
        metrics.nps_class(11)


def test_nps_is_rounded_once_half_away_from_zero():
    # 8 answers, 1 promoter, 0 detractors: 12.5 → 13 (banker's rounding would give 12)
    assert metrics.nps([10, 7, 7, 8, 7, 8, 7, 8]).score == 13
    # mirrored: −12.5 → −13
    assert metrics.nps([3, 7, 7, 8, 7, 8, 7, 8]).score == -13
    # 2 promoters, 1 detractor of 7: 100·(2−1)/7 = 14.29 → 14; rounding each share first
    # (29 − 14) would give 15
    assert metrics.nps([9, 10, 0, 7, 7, 8, 8]).score == 14
    assert metrics.nps([]).score is None
    assert metrics.nps([10, 10]).score == 100 and metrics.nps([0]).score == -100


def case(
    pk,
    *,
    client=1,
    topic=5,
    created=T0,
    resolved=T0 + timedelta(hours=2),
    contacts=1,
    reopened=False,
):
    return CaseFacts(pk, client, topic, created, resolved, contacts, reopened)


def test_fcr_one_contact_and_no_repeat_within_n_days():
    c = case(1)
    assert metrics.is_first_contact_resolution(c, [c], repeat_days=7)


def test_fcr_fails_with_two_contacts_or_a_reopening():
    assert not metrics.is_first_contact_resolution(case(1, contacts=2), [], repeat_days=7)
    assert not metrics.is_first_contact_resolution(case(1, reopened=True), [], repeat_days=7)
    # opened by the operator without an inbound contact: one contact, counts
    assert metrics.is_first_contact_resolution(case(1, contacts=0), [], repeat_days=7)


def test_fcr_repeat_case_same_client_same_topic_inside_the_window():
    c = case(1)
    day = timedelta(days=1)
    inside = case(2, created=c.resolved_at + 7 * day)  # exactly N days: still a repeat
    outside = case(3, created=c.resolved_at + 7 * day + timedelta(seconds=1))
    other_topic = case(4, topic=6, created=c.resolved_at + day)
    other_client = case(5, client=2, created=c.resolved_at + day)
    before = case(6, created=c.resolved_at - timedelta(minutes=1))
    assert not metrics.is_first_contact_resolution(c, [c, inside], repeat_days=7)
    assert metrics.is_first_contact_resolution(
        c, [c, outside, other_topic, other_client, before], repeat_days=7
    )
    # N is a setting: with 3 days the same repeat after 7 days no longer counts
    assert metrics.is_first_contact_resolution(c, [c, inside], repeat_days=3)


def test_fcr_no_topic_matches_no_topic_and_a_contact_after_resolution_is_a_repeat():
    c = case(1, topic=None)
    again = case(2, topic=None, created=c.resolved_at + timedelta(days=2))
    assert not metrics.is_first_contact_resolution(c, [again], repeat_days=7)
    assert not metrics.is_first_contact_resolution(
        case(1), [], repeat_days=7, contacts_after_resolution=[T0 + timedelta(days=1)]
    )
    with pytest.raises(ValueError):
        metrics.is_first_contact_resolution(case(1, resolved=None), [], repeat_days=7)


def test_service_level_and_asa_per_channel():
    offers = [
        Offer("phone", 5),
        Offer("phone", 20),
        Offer("phone", 21),
        Offer("phone", None),
        Offer("chat", 30),
        Offer("chat", 90),
    ]
    result = metrics.service_level(offers, {"phone": 20, "chat": 60})
    # phone: 2 of 4 offered within 20 s (abandoned counts against) = 50 %; ASA (5+20+21)/3
    assert result["phone"].sl == Decimal("50.0") and result["phone"].offered == 4
    assert result["phone"].asa_seconds == Decimal("15.3")
    assert result["chat"].sl == Decimal("50.0") and result["chat"].asa_seconds == Decimal("60.0")
    with pytest.raises(KeyError):
        metrics.service_level([Offer("fax", 1)], {"phone": 20})


def test_aht_is_talk_plus_after_contact_work():
    a = metrics.handle_seconds(T0, T0 + timedelta(minutes=4), 60)  # 240 + 60
    b = metrics.handle_seconds(T0, T0 + timedelta(seconds=100), None)  # 100
    assert (a, b) == (300, 100)
    assert metrics.handle_seconds(T0, None, 30) is None
    assert metrics.aht([a, b, None]) == Decimal("200.0")
    assert metrics.aht([]) is None
    with pytest.raises(ValueError):
        metrics.handle_seconds(T0, T0 - timedelta(seconds=1), 0)


def test_share_of_answers_in_the_portal_within_24_hours():
    assert metrics.portal_on_time_share(3, 2) == Decimal("66.7")
    assert metrics.portal_on_time_share(0, 0) is None


def test_handoffs_per_department_on_time_share_and_median():
    now = T0 + timedelta(days=5)
    h = timedelta(hours=1)
    items = [
        HandoffFacts("СБ", T0, T0 + 24 * h, T0 + 2 * h),  # on time, 2 h
        HandoffFacts("СБ", T0, T0 + 24 * h, T0 + 30 * h),  # late, 30 h
        HandoffFacts("СБ", T0, T0 + 24 * h, T0 + 4 * h),  # on time, 4 h
        HandoffFacts("СБ", T0, T0 + 24 * h, None),  # unanswered, overdue: late
        HandoffFacts("Казна", T0, now + h, None),  # unanswered, not yet due: undecided
    ]
    result = metrics.handoff_figures(items, now)
    sb = result["СБ"]
    assert (sb.sent, sb.answered, sb.on_time, sb.late) == (4, 3, 2, 2)
    assert sb.on_time_share == Decimal("50.0")  # 2 on time of 4 decided
    assert sb.median_answer_hours == Decimal("4.0")  # median of 2, 4, 30
    kazna = result["Казна"]
    assert kazna.on_time_share is None and kazna.median_answer_hours is None


def test_backlog_age_buckets_and_overdue():
    now = T0
    d = timedelta(days=1)
    cases = [
        (now - timedelta(hours=23), None),  # <1d
        (now - d, now - timedelta(minutes=1)),  # exactly 1 day: 1-3d, overdue
        (now - 3 * d, now + d),  # 3-7d
        (now - 29 * d, None),  # 7-30d
        (now - 30 * d, None),  # >30d
    ]
    assert metrics.backlog(cases, now) == {
        "<1d": 1,
        "1-3d": 1,
        "3-7d": 1,
        "7-30d": 1,
        ">30d": 1,
        "overdue": 1,
    }
    with pytest.raises(ValueError):
        metrics.age_bucket(now + d, now)
