"""Case service rules that mutation testing showed unguarded: what is refused (with which
words) and that a status change moves the SLA clocks (issue 19, survivor 8)."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from otklik.cases import services
from otklik.cases.models import Case, CaseStatus, MessageVisibility
from otklik.common.errors import ServiceError
from otklik.sla.models import Deadline, DeadlineKind, SlaPolicy
from tests.factories import ClientFactory, TopicFactory, make_case


@pytest.fixture(autouse=True)
def _in_russian():
    """The words are checked in Russian, whatever language an earlier test left active."""
    with translation.override("ru"):
        yield


pytestmark = pytest.mark.django_db


def _refusal(call) -> dict:
    with pytest.raises(ServiceError) as refused:
        call()
    return refused.value.message_dict


def test_unknown_channel_is_refused_and_nothing_is_stored(cast):
    client = ClientFactory()
    assert _refusal(
        lambda: services.case_open(actor=cast.alice, client=client, subject="Вопрос", channel="fax")
    ) == {"channel": ["Неизвестный канал «fax»."]}
    assert not Case.objects.filter(client=client).exists()


def test_subject_limits(cast):
    client = ClientFactory()
    longest = "а" * services.MAX_SUBJECT
    case = services.case_open(actor=cast.alice, client=client, subject=longest, channel="phone")
    assert Case.objects.get(pk=case.pk).subject == longest
    assert _refusal(
        lambda: services.case_open(
            actor=cast.alice, client=client, subject=longest + "а", channel="phone"
        )
    ) == {"subject": ["Суть обращения длиннее 300 символов."]}
    assert _refusal(lambda: services.case_update(actor=cast.alice, case=case, subject="   ")) == {
        "subject": ["Опишите, о чём спрашивает клиент."]
    }
    assert Case.objects.get(pk=case.pk).subject == longest


def test_an_archived_topic_is_refused_on_open_and_on_update(cast):
    archived = TopicFactory(name="Старая тема", is_active=False)
    client = ClientFactory()
    expected = {"topic_id": ["Эта тема в архиве."]}
    assert (
        _refusal(
            lambda: services.case_open(
                actor=cast.alice, client=client, subject="Вопрос", channel="chat", topic=archived
            )
        )
        == expected
    )
    case = make_case(actor=cast.alice, client=client)
    assert _refusal(lambda: services.case_update(actor=cast.alice, case=case, topic=archived)) == (
        expected
    )
    assert Case.objects.get(pk=case.pk).topic_id is None


def test_priority_and_unknown_fields_are_refused(cast):
    case = make_case(actor=cast.alice)
    assert _refusal(lambda: services.case_update(actor=cast.alice, case=case, priority=9)) == {
        "priority": ["Приоритет должен быть 1, 2, 3 или 4."]
    }
    assert set(_refusal(lambda: services.case_update(actor=cast.alice, case=case, status="x")))


def test_resolving_meets_the_clocks_and_waiting_for_the_client_pauses_them(cast):
    SlaPolicy.objects.create(name="Все", first_response_minutes=120, resolution_minutes=9 * 60)
    now = timezone.now()
    case = make_case(actor=cast.alice, now=now)
    resolution = Deadline.objects.get(case=case, kind=DeadlineKind.RESOLUTION)
    assert resolution.met_at is None and resolution.paused_at is None

    services.message_add(
        actor=cast.alice, case=case, body="Уточните дату", visibility=MessageVisibility.PUBLIC
    )
    services.case_transition(
        actor=cast.alice, case=case, to_status=CaseStatus.WAITING_CLIENT, now=now
    )
    resolution.refresh_from_db()
    assert resolution.paused_at == now

    later = now + timedelta(hours=1)
    services.case_transition(
        actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS, now=later
    )
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.RESOLVED, now=later)
    resolution.refresh_from_db()
    assert resolution.paused_at is None and resolution.met_at == later


def test_a_status_change_is_stored_with_its_times(cast):
    now = timezone.now()
    case = make_case(actor=cast.alice, now=now)
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS)
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.RESOLVED, now=now)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.is_open, stored.resolved_at) == (CaseStatus.RESOLVED, False, now)
    reopened = now + timedelta(minutes=5)
    services.case_transition(
        actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS, now=reopened
    )
    stored = Case.objects.get(pk=case.pk)
    assert (stored.is_open, stored.resolved_at, stored.updated_at) == (True, None, reopened)
