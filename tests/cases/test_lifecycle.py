"""The case lifecycle: allowed moves succeed and are recorded, the rest are refused clearly."""

import pytest
from django.utils import translation

from otklik.cases.lifecycle import TRANSITIONS
from otklik.cases.models import Case, CaseEvent, CaseStatus, EventKind, MessageVisibility
from otklik.cases.services import case_transition, case_update, message_add
from otklik.common.errors import ConflictError, ServiceError
from tests.factories import TopicFactory, make_case

S = CaseStatus


def _walk(case, actor, *statuses):
    for status in statuses:
        case_transition(actor=actor, case=case, to_status=status)
    return case


def test_full_path_to_closed_is_recorded(cast):
    case = make_case(actor=cast.alice)
    _walk(
        case,
        cast.alice,
        S.IN_PROGRESS,
        S.WAITING_DEPARTMENT,
        S.IN_PROGRESS,
        S.ANSWERED,
        S.RESOLVED,
        S.CLOSED,
    )
    case.refresh_from_db()
    assert case.status == S.CLOSED and not case.is_open
    assert case.resolved_at and case.closed_at
    moves = list(
        CaseEvent.objects.filter(case=case, field="status").values_list("old_value", "new_value")
    )
    assert moves == [
        ("new", "in_progress"),
        ("in_progress", "waiting_department"),
        ("waiting_department", "in_progress"),
        ("in_progress", "answered"),
        ("answered", "resolved"),
        ("resolved", "closed"),
    ]
    assert all(e.actor == cast.alice for e in CaseEvent.objects.filter(case=case))


@pytest.mark.parametrize("start", [S.RESOLVED, S.CLOSED])
def test_reopen_from_finished_states(cast, start):
    case = make_case(actor=cast.alice)
    path = [S.IN_PROGRESS, S.RESOLVED] + ([S.CLOSED] if start == S.CLOSED else [])
    _walk(case, cast.alice, *path)
    case_transition(actor=cast.alice, case=case, to_status=S.IN_PROGRESS)
    case.refresh_from_db()
    assert case.is_open and case.resolved_at is None and case.closed_at is None
    assert CaseEvent.objects.filter(case=case, kind=EventKind.REOPENED).count() == 1


def test_new_case_cannot_be_closed_and_nothing_changes(cast):
    case = make_case(actor=cast.alice)
    events_before = CaseEvent.objects.filter(case=case).count()
    with translation.override("ru"), pytest.raises(ServiceError) as err:
        case_transition(actor=cast.alice, case=case, to_status=S.CLOSED)
    assert err.value.message_dict["status"] == [
        "Обращение в статусе «Новое» нельзя закрыть: сначала решите его."
    ]
    case.refresh_from_db()
    assert case.status == S.NEW
    assert CaseEvent.objects.filter(case=case).count() == events_before


def test_every_pair_outside_the_table_is_refused(cast):
    case = make_case(actor=cast.alice)
    for current in S.values:
        for target in S.values:
            if target in TRANSITIONS[current]:
                continue
            Case.objects.filter(pk=case.pk).update(status=current)
            case.status = current
            with pytest.raises(ServiceError):
                case_transition(actor=cast.alice, case=case, to_status=target)


def test_unknown_status_is_refused(cast):
    case = make_case(actor=cast.alice)
    with pytest.raises(ServiceError) as err:
        case_transition(actor=cast.alice, case=case, to_status="archived")
    assert "status" in err.value.message_dict


def test_stale_copy_loses_the_race(cast):
    case = make_case(actor=cast.alice)
    stale = Case.objects.get(pk=case.pk)
    case_transition(actor=cast.alice, case=case, to_status=S.IN_PROGRESS)
    case_transition(actor=cast.alice, case=case, to_status=S.RESOLVED)
    stale.status = S.IN_PROGRESS  # what the second operator's screen still shows
    with pytest.raises(ConflictError):
        case_transition(actor=cast.olga, case=stale, to_status=S.WAITING_CLIENT)
    assert Case.objects.get(pk=case.pk).status == S.RESOLVED


def test_staff_message_takes_new_case_into_work(cast):
    case = make_case(actor=cast.alice)
    message_add(actor=cast.alice, case=case, body="Проверяю", visibility=MessageVisibility.INTERNAL)
    case.refresh_from_db()
    assert case.status == S.IN_PROGRESS


def test_client_message_reopens_resolved_case(cast):
    case = make_case(actor=cast.alice)
    _walk(case, cast.alice, S.IN_PROGRESS, S.RESOLVED)
    message_add(actor=None, case=case, body="Ещё вопрос", visibility="public", author_kind="client")
    case.refresh_from_db()
    assert case.status == S.IN_PROGRESS and case.is_open


def test_empty_message_is_refused(cast):
    case = make_case(actor=cast.alice)
    with pytest.raises(ServiceError) as err:
        message_add(actor=cast.alice, case=case, body="   ", visibility="public")
    assert "body" in err.value.message_dict
    assert case.messages.count() == 0


def test_field_changes_are_recorded_one_row_each(cast):
    case = make_case(actor=cast.alice)
    topic = TopicFactory(name="Закрытие ИИС")
    case_update(actor=cast.alice, case=case, topic=topic, priority=4, subject=case.subject)
    rows = {
        e.field: (e.old_value, e.new_value)
        for e in CaseEvent.objects.filter(case=case, kind=EventKind.FIELD_CHANGED)
    }
    assert set(rows) == {"topic", "priority"}
    assert rows["topic"] == ("", "Закрытие ИИС")


def test_bad_priority_is_refused_without_change(cast):
    case = make_case(actor=cast.alice)
    with pytest.raises(ServiceError):
        case_update(actor=cast.alice, case=case, priority=9)
    case.refresh_from_db()
    assert case.priority == 2
