"""SLA clocks on cases: policies, calendars, pause/resume, warnings and breaches once."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from otklik.cases.models import AuthorKind, CaseEvent, CaseStatus, EventKind, MessageVisibility
from otklik.cases.services import case_transition, message_add
from otklik.handoffs.models import Handoff
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox
from otklik.sla import services
from otklik.sla.models import BusinessCalendar, CalendarDay, Deadline, DeadlineKind, SlaPolicy
from otklik.sla.selectors import (
    deadline_open_for,
    deadlines_for_case,
    portal_answer_stats,
    remaining_label,
)
from otklik.sla.services import (
    deadline_meet,
    deadline_start,
    deadlines_pause,
    deadlines_resume,
    scan_deadlines,
)
from tests.factories import ClientFactory, TopicFactory

MSK = ZoneInfo("Europe/Moscow")
K = DeadlineKind


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


MONDAY_10 = msk(2025, 10, 20, 10, 0)


def open_case(cast, *, channel="email", now=MONDAY_10, **kwargs):
    from otklik.cases.services import case_open

    return case_open(
        actor=cast.alice,
        client=ClientFactory(),
        subject="Не пришла выписка",
        channel=channel,
        now=now,
        **kwargs,
    )


@pytest.fixture
def team_calendar(cast):
    calendar = BusinessCalendar.objects.create(name="Вторая линия 9–18")
    calendar.teams.add(cast.team_a)
    return calendar


# --- starting clocks ----------------------------------------------------------------------


def test_opening_a_case_starts_its_clocks_on_the_wall_clock_by_default(cast):
    case = open_case(cast)
    kinds = {d.kind: d for d in deadlines_for_case(case=case)}
    assert set(kinds) == {K.FIRST_RESPONSE, K.RESOLUTION}
    assert kinds[K.RESOLUTION].due_at == MONDAY_10 + timedelta(hours=72)
    case.refresh_from_db()
    assert case.due_at == kinds[K.RESOLUTION].due_at


def test_a_phone_case_has_no_first_response_clock(cast):
    case = open_case(cast, channel="phone")
    assert [d.kind for d in deadlines_for_case(case=case)] == [K.RESOLUTION]


def test_team_calendar_moves_the_due_time_over_the_weekend(cast, team_calendar):
    friday_17 = msk(2025, 10, 24, 17, 0)
    SlaPolicy.objects.create(name="Все", first_response_minutes=120, resolution_minutes=9 * 60)
    case = open_case(cast, now=friday_17)
    assert deadline_open_for(case=case, kind=K.FIRST_RESPONSE).due_at == msk(2025, 10, 27, 10)
    assert deadline_open_for(case=case, kind=K.RESOLUTION).due_at == msk(2025, 10, 27, 17)


def test_holiday_exception_is_skipped(cast, team_calendar):
    CalendarDay.objects.create(calendar=team_calendar, date=msk(2025, 11, 4).date())
    CalendarDay.objects.create(
        calendar=team_calendar,
        date=msk(2025, 11, 1).date(),
        is_working=True,
        start=time(10),
        end=time(14),
    )
    case = open_case(cast, now=msk(2025, 10, 31, 17, 0))
    # Fri 17–18 (1 h), moved Saturday 10–14 (4 h), Mon 9–18 (9 h), Tue holiday → Wed 12:00.
    deadline = deadline_start(
        case=case, kind=K.PORTAL_ANSWER, minutes=17 * 60, start=msk(2025, 10, 31, 17, 0)
    )
    assert deadline.due_at == msk(2025, 11, 5, 12, 0)


def test_start_is_idempotent_while_open(cast):
    case = open_case(cast)
    first = deadline_start(case=case, kind=K.PORTAL_ANSWER, start=MONDAY_10)
    assert deadline_start(case=case, kind=K.PORTAL_ANSWER, minutes=5) == first
    assert first.due_at == MONDAY_10 + timedelta(hours=24)  # portal answer default 24 h
    deadline_meet(case=case, kind=K.PORTAL_ANSWER, at=MONDAY_10 + timedelta(hours=1))
    assert deadline_start(case=case, kind=K.PORTAL_ANSWER, minutes=5) != first


def test_handoff_answer_uses_the_department_calendar_and_syncs_handoff_due(cast):
    calendar = BusinessCalendar.objects.create(name="СБ", is_24x7=False)
    calendar.departments.add(cast.security)
    case = open_case(cast, now=msk(2025, 10, 24, 17, 0))
    handoff = Handoff.objects.create(
        case=case, department=cast.security, question="?", created_at=msk(2025, 10, 24, 17)
    )
    deadline = deadline_start(
        case=case, kind=K.HANDOFF_ANSWER, handoff=handoff, start=msk(2025, 10, 24, 17)
    )
    assert deadline.due_at == msk(2025, 10, 27, 16, 0)  # 8 business hours default
    handoff.refresh_from_db()
    assert handoff.due_at == deadline.due_at
    assert deadline_open_for(case=case, kind=K.HANDOFF_ANSWER, handoff=handoff) == deadline
    assert deadline_meet(case=case, kind=K.HANDOFF_ANSWER, handoff=handoff).met_on_time is False


# --- policies -----------------------------------------------------------------------------


def test_most_specific_policy_wins_per_kind(cast):
    topic = TopicFactory(name="Закрытие ИИС")
    SlaPolicy.objects.create(name="Общая", first_response_minutes=240, resolution_minutes=4000)
    SlaPolicy.objects.create(name="Чат", channel="chat", first_response_minutes=5)
    SlaPolicy.objects.create(name="Срочные", priority=4, first_response_minutes=30)
    SlaPolicy.objects.create(name="ИИС", topic=topic, resolution_minutes=1440)
    SlaPolicy.objects.create(name="Выкл", topic=topic, first_response_minutes=1, is_active=False)

    case = open_case(cast, channel="chat", priority=4, topic=topic)
    first = deadline_open_for(case=case, kind=K.FIRST_RESPONSE)
    resolution = deadline_open_for(case=case, kind=K.RESOLUTION)
    assert (first.policy.name, first.target_minutes) == ("Срочные", 30)  # priority > channel
    assert (resolution.policy.name, resolution.target_minutes) == ("ИИС", 1440)

    other = open_case(cast, channel="email", priority=2)
    assert deadline_open_for(case=other, kind=K.FIRST_RESPONSE).policy.name == "Общая"
    assert deadline_open_for(case=other, kind=K.PORTAL_ANSWER) is None


# --- hooks from the case lifecycle --------------------------------------------------------


def test_public_reply_meets_first_response_and_resolution_meets_the_rest(cast):
    case = open_case(cast)
    message_add(
        actor=cast.alice,
        case=case,
        body="Внутреннее",
        visibility=MessageVisibility.INTERNAL,
        now=MONDAY_10 + timedelta(minutes=5),
    )
    assert deadline_open_for(case=case, kind=K.FIRST_RESPONSE) is not None
    message_add(
        actor=cast.alice,
        case=case,
        body="Здравствуйте!",
        visibility=MessageVisibility.PUBLIC,
        now=MONDAY_10 + timedelta(minutes=10),
    )
    assert deadline_open_for(case=case, kind=K.FIRST_RESPONSE) is None
    case_transition(
        actor=cast.alice,
        case=case,
        to_status=CaseStatus.RESOLVED,
        now=MONDAY_10 + timedelta(hours=1),
    )
    assert all(d.met_on_time for d in deadlines_for_case(case=case))


def test_client_message_in_the_cabinet_starts_the_portal_answer_clock(cast):
    case = open_case(cast, channel="portal")
    message_add(
        actor=None,
        case=case,
        body="Где деньги?",
        visibility=MessageVisibility.PUBLIC,
        author_kind=AuthorKind.CLIENT,
        now=MONDAY_10 + timedelta(minutes=1),
    )
    assert deadline_open_for(case=case, kind=K.PORTAL_ANSWER) is not None
    message_add(
        actor=cast.alice,
        case=case,
        body="Уже ищем",
        visibility=MessageVisibility.PUBLIC,
        now=MONDAY_10 + timedelta(hours=2),
    )
    day = timedelta(days=1)
    assert portal_answer_stats(since=MONDAY_10 - day, until=MONDAY_10 + day) == {
        "sent": 1,
        "on_time": 1,
        "share_on_time": 1.0,
    }
    assert portal_answer_stats(since=MONDAY_10 + day, until=MONDAY_10 + 2 * day)["sent"] == 0


def test_waiting_for_client_pauses_and_resume_keeps_remaining_business_time(cast, team_calendar):
    SlaPolicy.objects.create(name="Все", resolution_minutes=9 * 60)
    case = open_case(cast, now=MONDAY_10)  # due Tuesday 10:00
    resolution = deadline_open_for(case=case, kind=K.RESOLUTION)
    assert resolution.due_at == msk(2025, 10, 21, 10)

    case_transition(
        actor=cast.alice, case=case, to_status=CaseStatus.WAITING_CLIENT, now=msk(2025, 10, 20, 16)
    )
    resolution.refresh_from_db()
    assert resolution.paused_at is not None
    assert resolution.remaining_seconds_at_pause == 3 * 3600  # 16–18 Mon and 9–10 Tue
    case.refresh_from_db()
    assert case.due_at is None  # not overdue in the queue while the client holds it
    with translation.override("ru"):
        assert remaining_label(resolution) == "на паузе"
    assert scan_deadlines(now=msk(2025, 10, 30)).breached == []  # paused: nothing due

    # The client answers on Thursday 17:00: 1 h on Thursday, 2 h on Friday → Friday 11:00.
    client_reply_at = msk(2025, 10, 23, 17)
    message_add(
        actor=None,
        case=case,
        body="Вот документ",
        visibility=MessageVisibility.PUBLIC,
        author_kind=AuthorKind.CLIENT,
        now=client_reply_at,
    )
    resolution.refresh_from_db()
    assert resolution.paused_at is None
    assert resolution.due_at == msk(2025, 10, 24, 11)
    case.refresh_from_db()
    assert case.due_at == resolution.due_at


def test_pause_and_resume_directly_return_counts(cast):
    case = open_case(cast)
    assert deadlines_pause(case=case, at=MONDAY_10 + timedelta(hours=1)) == 2
    assert deadlines_pause(case=case, at=MONDAY_10 + timedelta(hours=2)) == 0
    assert deadlines_resume(case=case, at=MONDAY_10 + timedelta(hours=5)) == 2
    due = deadline_open_for(case=case, kind=K.RESOLUTION).due_at
    assert due == MONDAY_10 + timedelta(hours=72 + 4)


def test_reopened_case_gets_a_new_resolution_clock(cast):
    case = open_case(cast)
    case_transition(actor=cast.alice, case=case, to_status=CaseStatus.RESOLVED, now=MONDAY_10)
    later = MONDAY_10 + timedelta(days=1)
    case_transition(actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS, now=later)
    assert deadline_open_for(case=case, kind=K.RESOLUTION).due_at == later + timedelta(hours=72)


# --- the scan -----------------------------------------------------------------------------


def test_warning_then_breach_each_exactly_once(cast, settings):
    cast.olga.email = "olga@example.org"
    cast.olga.save()
    cast.sue.email = "sue@example.org"
    cast.sue.save()
    case = open_case(cast, channel="phone")  # resolution only: 72 h, warned at 57.6 h
    deadline = deadline_open_for(case=case, kind=K.RESOLUTION)
    assert deadline.warn_at == MONDAY_10 + timedelta(hours=72 * 0.8)

    assert scan_deadlines(now=MONDAY_10 + timedelta(hours=50)).warned == []
    at_warn = MONDAY_10 + timedelta(hours=60)
    assert scan_deadlines(now=at_warn).warned == [deadline.pk]
    assert scan_deadlines(now=at_warn).warned == []
    warning_events = LiveEvent.objects.filter(kind="sla_warning")
    assert [e.user_id for e in warning_events] == [cast.alice.pk]

    at_breach = MONDAY_10 + timedelta(hours=72, seconds=1)
    result = scan_deadlines(now=at_breach)
    assert result.breached == [deadline.pk]
    assert scan_deadlines(now=at_breach + timedelta(seconds=1)).breached == []

    deadline.refresh_from_db()
    assert deadline.breached_at == at_breach
    assert deadline.escalated_to == cast.olga  # the team's senior operator first
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.SLA_WARNING) == 1
    assert kinds.count(EventKind.SLA_BREACH) == 1
    breach_to = set(LiveEvent.objects.filter(kind="sla_breach").values_list("user", flat=True))
    assert breach_to == {cast.olga.pk, cast.sue.pk, cast.alice.pk}
    assert set(Outbox.objects.values_list("key", flat=True)) == {
        f"sla-breach-{deadline.pk}-{cast.olga.pk}",
        f"sla-breach-{deadline.pk}-{cast.sue.pk}",
    }  # alice has no e-mail address: live event only
    mail = Outbox.objects.get(user=cast.sue)
    assert mail.subject == f"Пропущен срок «Решение» по обращению {case.reference}"
    assert f"{settings.OTKLIK_PUBLIC_URL}cases/{case.pk}/" in mail.body
    with translation.override("ru"):
        label = remaining_label(deadline, now=deadline.due_at + timedelta(minutes=20))
    assert label == "просрочено на 20 мин"


def test_met_deadline_is_never_breached(cast):
    case = open_case(cast, channel="phone")
    case_transition(actor=cast.alice, case=case, to_status=CaseStatus.RESOLVED, now=MONDAY_10)
    assert scan_deadlines(now=MONDAY_10 + timedelta(days=10)).breached == []
    assert not CaseEvent.objects.filter(kind=EventKind.SLA_BREACH).exists()


def test_late_breach_skips_the_stale_warning(cast):
    case = open_case(cast, channel="phone")
    result = scan_deadlines(now=MONDAY_10 + timedelta(days=5))
    assert len(result.breached) == 1 and result.warned == []
    assert scan_deadlines(now=MONDAY_10 + timedelta(days=6)).warned == []
    assert case.events.filter(kind=EventKind.SLA_WARNING).count() == 0


def test_scan_works_in_batches_in_due_order(cast):
    cases = [
        open_case(cast, channel="phone", now=MONDAY_10 + timedelta(minutes=i)) for i in range(5)
    ]
    later = MONDAY_10 + timedelta(days=5)
    first = scan_deadlines(now=later, batch=3)
    assert first.more is True
    assert first.breached == [deadline_open_for(case=c, kind=K.RESOLUTION).pk for c in cases[:3]]
    second = scan_deadlines(now=later, batch=3)
    assert len(second.breached) == 2 and second.more is False


def test_claim_is_conditional(cast):
    """A second scanner that read the same ids before the first claimed them does nothing."""
    case = open_case(cast, channel="phone")
    deadline = deadline_open_for(case=case, kind=K.RESOLUTION)
    later = MONDAY_10 + timedelta(days=5)
    assert services._breach_one(deadline.pk, later) is True
    assert services._breach_one(deadline.pk, later) is False
    assert case.events.filter(kind=EventKind.SLA_BREACH).count() == 1


def test_remaining_label_in_russian_and_english(cast):
    case = open_case(cast)
    deadline = deadline_open_for(case=case, kind=K.FIRST_RESPONSE)  # 4 h
    now = MONDAY_10 + timedelta(minutes=50)
    with translation.override("ru"):
        assert remaining_label(deadline, now=now) == "осталось 3 ч 10 мин"
        resolution = deadline_open_for(case=case, kind=K.RESOLUTION)
        assert remaining_label(resolution, now=now) == "осталось 2 дн 23 ч"
    with translation.override("en"):
        assert remaining_label(deadline, now=now) == "3 h 10 min left"


def test_unknown_kind_is_refused(cast):
    from otklik.common.errors import ServiceError

    case = open_case(cast)
    with pytest.raises(ServiceError):
        deadline_start(case=case, kind="lunch")
    with pytest.raises(ServiceError):
        deadline_start(case=case, kind=K.HANDOFF_ANSWER)  # needs a handoff


def test_scan_reads_only_the_partial_index(cast):
    """The due query is answered from the partial index (no scan of all deadlines)."""
    from django.db import connection

    from otklik.sla.services import RUNNING

    qs = (
        Deadline.objects.filter(RUNNING, due_at__lte=MONDAY_10)
        .order_by("due_at")
        .values_list("pk", flat=True)[:500]
    )
    if connection.vendor == "postgresql":
        # On a near-empty table PostgreSQL rightly prefers a sequential scan; what must
        # hold is that the partial index can answer this query (its predicate matches).
        # Sorting is ruled out too: otherwise, depending on the statistics autovacuum left
        # behind, another index (kind, met_at) plus a sort may look as cheap. Only the due
        # index yields the rows in due order, and only if its predicate matches the query.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
    plan = qs.explain()
    name = "sla_deadline_due"
    assert name in plan, plan
    if connection.vendor == "sqlite":
        assert "SCAN" not in plan.replace(f"USING INDEX {name}", ""), plan
