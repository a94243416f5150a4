"""Case services as the database keeps them, with every refusal in the words the user reads.

Found by mutation testing (docs/testing.md): interactions and their fields, who owns and
which team gets a new case, what each refusal says and that it stores nothing, a client
writing on a finished case, field changes in the history's words.
"""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from otklik.accounts.models import Role
from otklik.cases import services
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    Interaction,
    Message,
)
from otklik.common.errors import ConflictError, NotAllowed, ServiceError
from otklik.handoffs.services import handoff_send
from tests.factories import ClientFactory, TopicFactory, UserFactory, make_case

pytestmark = pytest.mark.django_db

SPECIALISTS_ANSWER = "Специалисты подразделений отвечают через запрос, а не в самом обращении."


@pytest.fixture(autouse=True)
def _in_russian():
    with translation.override("ru"):
        yield


def _refusal(call) -> dict:
    with pytest.raises(ServiceError) as refused:
        call()
    return refused.value.message_dict


def _history(case) -> list[tuple]:
    return list(
        CaseEvent.objects.filter(case=case)
        .order_by("pk")
        .values_list("kind", "field", "old_value", "new_value")
    )


# --- interactions -----------------------------------------------------------------------------


def test_a_call_is_stored_with_its_figures_and_linked_to_the_case(cast):
    case = make_case(actor=cast.alice)
    started = timezone.now() - timedelta(minutes=10)
    ended = started + timedelta(minutes=4)
    call = services.interaction_register(
        actor=cast.olga,
        client=case.client,
        channel="phone",
        case=case,
        direction="outbound",
        summary="  Перезвонил по карте 2200 7000 0000 0009  ",
        external_ref="  " + "x" * 120,
        now=started,
        ended_at=ended,
        queue_seconds=35,
        wrap_up_seconds=50,
    )
    stored = Interaction.objects.get(pk=call.pk)
    assert (stored.case_id, stored.client_id, stored.operator_id) == (
        case.pk,
        case.client_id,
        cast.olga.pk,
    )
    assert (stored.channel, stored.direction) == ("phone", "outbound")
    assert stored.summary.startswith("Перезвонил по карте") and "2200 7000" not in stored.summary
    assert stored.external_ref == "x" * 100
    assert (stored.started_at, stored.ended_at) == (started, ended)
    assert (stored.queue_seconds, stored.wrap_up_seconds) == (35, 50)
    linked = CaseEvent.objects.get(case=case, kind=EventKind.INTERACTION_LINKED)
    assert (linked.field, linked.new_value, linked.actor_id) == ("channel", "phone", cast.olga.pk)
    assert Case.objects.get(pk=case.pk).updated_at == started


def test_a_call_on_a_new_subject_opens_a_case_with_its_topic_and_priority(cast):
    client = ClientFactory()
    topic = TopicFactory(name="Блокировка карты")
    call = services.interaction_register(
        actor=cast.alice,
        client=client,
        channel="chat",
        new_case_subject="Карта заблокирована",
        topic=topic,
        priority=4,
    )
    case = Case.objects.get(pk=call.case_id)
    assert (case.client_id, case.subject, case.channel) == (
        client.pk,
        "Карта заблокирована",
        "chat",
    )
    assert (case.topic_id, case.priority, case.owner_id) == (topic.pk, 4, cast.alice.pk)
    assert call.direction == "inbound"


def test_interaction_refusals_are_worded_and_store_nothing(cast):
    case = make_case(actor=cast.alice)
    other_client = ClientFactory()

    def register(**kwargs):
        params = {"actor": cast.alice, "client": case.client, "channel": "phone", "case": case}
        return lambda: services.interaction_register(**{**params, **kwargs})

    assert _refusal(register(channel="pigeon")) == {"channel": ["Неизвестный канал «pigeon»."]}
    assert _refusal(register(direction="sideways")) == {
        "direction": ["Направление должно быть входящим или исходящим."]
    }
    assert _refusal(register(new_case_subject="Ещё одно")) == {
        "case_id": ["Либо продолжите обращение, либо создайте новое — не оба сразу."]
    }
    assert _refusal(register(case=None, new_case_subject="   ")) == {
        "subject": ["Опишите, о чём спрашивает клиент."]
    }
    assert _refusal(register(client=other_client)) == {
        "case_id": ["Это обращение другого клиента."]
    }
    with pytest.raises(NotAllowed) as refused:
        register(actor=cast.sam)()
    assert refused.value.message_dict == {"case": [SPECIALISTS_ANSWER]}
    assert not Interaction.objects.exists()
    assert Case.objects.count() == 1
    assert not CaseEvent.objects.filter(kind=EventKind.INTERACTION_LINKED).exists()


def test_a_call_on_a_finished_case_reopens_it_and_on_an_open_one_changes_no_status(cast):
    case = make_case(actor=cast.alice)
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS)
    services.interaction_register(actor=cast.alice, client=case.client, channel="chat", case=case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.RESOLVED)
    services.interaction_register(actor=cast.olga, client=case.client, channel="phone", case=case)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.is_open, stored.resolved_at) == (
        CaseStatus.IN_PROGRESS,
        True,
        None,
    )
    reopened = CaseEvent.objects.get(case=case, kind=EventKind.REOPENED)
    assert reopened.actor_id == cast.olga.pk


# --- opening ------------------------------------------------------------------------------


def test_a_new_case_goes_to_the_given_team_else_the_topics_else_the_actors(cast):
    client = ClientFactory()
    topic = TopicFactory(name="Вклады", default_team=cast.team_b)
    given = services.case_open(
        actor=cast.alice, client=client, subject="А", channel="chat", topic=topic, team=cast.team_a
    )
    by_topic = services.case_open(
        actor=cast.alice, client=client, subject="Б", channel="chat", topic=topic
    )
    by_actor = services.case_open(actor=cast.alice, client=client, subject="В", channel="chat")
    portal = services.case_open(actor=None, client=client, subject="Г", channel="portal")
    teams = {
        c.subject: c.team_id
        for c in Case.objects.filter(pk__in=[given.pk, by_topic.pk, by_actor.pk, portal.pk])
    }
    assert teams == {"А": cast.team_a.pk, "Б": cast.team_b.pk, "В": cast.team_a.pk, "Г": None}


def test_the_actor_owns_a_new_case_unless_another_owner_is_given_and_a_client_owns_none(cast):
    client = ClientFactory()
    mine = services.case_open(actor=cast.alice, client=client, subject="А", channel="chat")
    given = services.case_open(
        actor=cast.alice, client=client, subject="Б", channel="chat", owner=cast.olga
    )
    portal = services.case_open(actor=None, client=client, subject="В", channel="portal")
    owners = dict(Case.objects.filter(client=client).values_list("subject", "owner_id"))
    assert owners == {"А": cast.alice.pk, "Б": cast.olga.pk, "В": None}
    creators = dict(Case.objects.filter(client=client).values_list("subject", "created_by_id"))
    assert creators == {"А": cast.alice.pk, "Б": cast.alice.pk, "В": None}
    assert mine.status == given.status == portal.status == CaseStatus.NEW


def test_a_superuser_specialist_opens_a_case_he_does_not_own(cast):
    root = UserFactory(username="root", role=Role.SPECIALIST, is_superuser=True)
    case = services.case_open(actor=root, client=ClientFactory(), subject="А", channel="chat")
    assert Case.objects.get(pk=case.pk).owner_id is None


def test_a_specialist_cannot_open_a_case(cast):
    with pytest.raises(NotAllowed) as refused:
        services.case_open(actor=cast.sam, client=ClientFactory(), subject="А", channel="chat")
    assert refused.value.message_dict == {"case": [SPECIALISTS_ANSWER]}
    assert not Case.objects.exists()


def test_a_description_is_the_first_internal_note_and_takes_the_case_into_work(cast):
    client = ClientFactory()
    now = timezone.now()
    case = services.case_open(
        actor=None,
        client=client,
        subject="Не проходит платёж",
        channel="portal",
        description="  Платёж по карте 2200 7000 0000 0009 отклонён  ",
        now=now,
    )
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.created_at, stored.updated_at) == (
        CaseStatus.IN_PROGRESS,
        now,
        now,
    )
    note = Message.objects.get(case=case)
    assert (note.visibility, note.author_kind, note.author_id) == ("internal", "staff", None)
    assert note.body.startswith("Платёж по карте") and "7000 0000" not in note.body
    assert _history(case) == [
        (EventKind.CREATED, "", "", "Не проходит платёж"),
        (EventKind.MESSAGE_ADDED, "visibility", "", "internal"),
        (EventKind.STATUS_CHANGED, "status", CaseStatus.NEW, CaseStatus.IN_PROGRESS),
    ]


def test_a_batch_refusal_names_the_draft_and_opens_nothing(cast):
    client = ClientFactory()
    drafts = [
        services.CaseDraft(client=client, subject="Первое", channel="chat"),
        services.CaseDraft(client=client, subject="Второе", channel="chat", priority=7),
    ]
    assert _refusal(lambda: services.cases_open(actor=cast.alice, drafts=drafts)) == {
        "cases.1.priority": ["Приоритет должен быть 1, 2, 3 или 4."]
    }
    assert not Case.objects.exists()


def test_an_empty_or_overlong_description_is_refused(cast):
    client = ClientFactory()
    assert _refusal(
        lambda: services.case_open(
            actor=cast.alice, client=client, subject="А", channel="chat", description="я" * 20_001
        )
    ) == {"body": ["Сообщение длиннее 20 000 символов."]}
    case = services.case_open(
        actor=cast.alice, client=client, subject="А", channel="chat", description="я" * 20_000
    )
    assert len(Message.objects.get(case=case).body) == 20_000


# --- status -------------------------------------------------------------------------------


def test_status_refusals_are_worded(cast):
    case = make_case(actor=cast.alice)
    assert _refusal(
        lambda: services.case_transition(actor=cast.alice, case=case, to_status="archived")
    ) == {"status": ["Неизвестный статус «archived»."]}
    stale = Case.objects.get(pk=case.pk)
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS)
    with pytest.raises(ConflictError) as refused:
        services.case_transition(actor=cast.olga, case=stale, to_status=CaseStatus.WAITING_CLIENT)
    assert refused.value.message_dict == {
        "status": ["Обращение уже изменил другой сотрудник; обновите страницу."]
    }
    assert stale.status == CaseStatus.NEW  # the loser's copy is not changed either


def test_a_specialist_cannot_move_a_handed_case_but_the_system_can(cast):
    case = make_case(actor=cast.alice)
    handoff_send(actor=cast.alice, case=case, department=cast.security, question="Проверьте")
    with pytest.raises(NotAllowed) as refused:
        services.case_transition(actor=cast.sam, case=case, to_status=CaseStatus.IN_PROGRESS)
    assert refused.value.message_dict == {"case": [SPECIALISTS_ANSWER]}
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WAITING_DEPARTMENT
    services.case_transition(actor=None, case=case, to_status=CaseStatus.IN_PROGRESS)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS
    assert (
        CaseEvent.objects.filter(case=case, field="status").order_by("pk").last().actor_id is None
    )


def test_closing_keeps_the_resolved_time_and_stores_the_closing_time(cast):
    case = make_case(actor=cast.alice)
    resolved = timezone.now()
    closed = resolved + timedelta(days=1)
    services.case_transition(
        actor=cast.alice, case=case, to_status=CaseStatus.RESOLVED, now=resolved
    )
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.CLOSED, now=closed)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.resolved_at, stored.closed_at, stored.is_open) == (resolved, closed, False)
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.resolved_at, stored.closed_at, stored.is_open) == (None, None, True)


def test_waiting_for_the_client_keeps_the_resolved_time_empty_and_is_no_reopening(cast):
    case = make_case(actor=cast.alice)
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.WAITING_CLIENT)
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS)
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.REOPENED).exists()
    stored = Case.objects.get(pk=case.pk)
    assert (stored.resolved_at, stored.closed_at) == (None, None)


# --- fields -------------------------------------------------------------------------------


def test_field_changes_are_written_in_the_historys_words(cast):
    case = make_case(actor=cast.alice)
    now = timezone.now() + timedelta(minutes=3)
    services.case_update(
        actor=cast.alice, case=case, priority=4, owner=cast.olga, subject="  Новая суть  ", now=now
    )
    stored = Case.objects.get(pk=case.pk)
    assert (stored.priority, stored.owner_id, stored.subject, stored.updated_at) == (
        4,
        cast.olga.pk,
        "Новая суть",
        now,
    )
    rows = {
        e.field: (e.old_value, e.new_value, e.actor_id)
        for e in CaseEvent.objects.filter(case=case, kind=EventKind.FIELD_CHANGED)
    }
    assert rows == {
        "priority": ("Обычный", "Срочный", cast.alice.pk),
        "owner": (str(cast.alice), str(cast.olga), cast.alice.pk),
        "subject": ("Вопрос клиента", "Новая суть", cast.alice.pk),
    }
    services.case_update(actor=cast.alice, case=case, owner=None)
    cleared = CaseEvent.objects.filter(case=case, field="owner").order_by("pk").last()
    assert (cleared.old_value, cleared.new_value) == (str(cast.olga), "")
    assert Case.objects.get(pk=case.pk).owner_id is None


def test_an_update_that_changes_nothing_writes_nothing(cast):
    case = make_case(actor=cast.alice)
    before = Case.objects.get(pk=case.pk).updated_at
    services.case_update(
        actor=cast.alice,
        case=case,
        subject=case.subject,
        priority=case.priority,
        owner=cast.alice,
        now=timezone.now() + timedelta(hours=1),
    )
    assert Case.objects.get(pk=case.pk).updated_at == before
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.FIELD_CHANGED).exists()


def test_the_owner_must_be_front_line_staff_of_the_cases_team(cast):
    case = make_case(actor=cast.alice)
    expected = {
        "owner_id": ["Ответственным может быть только сотрудник первой линии из команды обращения."]
    }
    assert (
        _refusal(lambda: services.case_update(actor=cast.alice, case=case, owner=cast.bob))
        == expected
    )
    specialist_in_team = UserFactory(username="spec-a", role=Role.SPECIALIST, team=cast.team_a)
    assert (
        _refusal(
            lambda: services.case_update(actor=cast.alice, case=case, owner=specialist_in_team)
        )
        == expected
    )
    assert (
        _refusal(
            lambda: services.case_update(actor=cast.alice, case=case, owner=cast.olga, team=None)
        )
        == expected
    )
    assert Case.objects.get(pk=case.pk).owner_id == cast.alice.pk
    # moving the case to team B with bob as its owner is one consistent change
    services.case_update(actor=cast.alice, case=case, owner=cast.bob, team=cast.team_b)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.owner_id, stored.team_id) == (cast.bob.pk, cast.team_b.pk)


def test_fields_outside_the_list_and_specialists_are_refused(cast):
    case = make_case(actor=cast.alice)
    assert _refusal(
        lambda: services.case_update(actor=cast.alice, case=case, status="closed", client=None)
    ) == {
        "status": ["Это поле здесь изменить нельзя."],
        "client": ["Это поле здесь изменить нельзя."],
    }
    with pytest.raises(NotAllowed) as refused:
        services.case_update(actor=cast.sam, case=case, priority=4)
    assert refused.value.message_dict == {"case": [SPECIALISTS_ANSWER]}
    assert Case.objects.get(pk=case.pk).priority == 2


# --- messages -----------------------------------------------------------------------------


def test_message_refusals_are_worded_and_store_nothing(cast):
    case = make_case(actor=cast.alice)
    assert _refusal(
        lambda: services.message_add(actor=cast.alice, case=case, body="Текст", visibility="secret")
    ) == {"visibility": ["Видимость: внутренняя заметка или ответ клиенту."]}
    assert _refusal(
        lambda: services.message_add(
            actor=None, case=case, body="Текст", visibility="internal", author_kind="client"
        )
    ) == {"visibility": ["Сообщение клиента всегда видно клиенту."]}
    assert _refusal(
        lambda: services.message_add(actor=cast.alice, case=case, body=" ", visibility="public")
    ) == {"body": ["Сообщение пустое."]}
    handoff_send(actor=cast.alice, case=case, department=cast.security, question="Проверьте")
    with pytest.raises(NotAllowed):
        services.message_add(actor=cast.sam, case=case, body="Клиенту", visibility="public")
    assert not Message.objects.filter(case=case).exists()


def test_a_client_writing_on_a_waiting_or_answered_case_brings_it_back_into_work(cast):
    for status in (CaseStatus.WAITING_CLIENT, CaseStatus.ANSWERED):
        case = make_case(actor=cast.alice)
        services.case_transition(actor=cast.alice, case=case, to_status=status)
        message = services.message_add(
            actor=None,
            case=case,
            body="Вот документы",
            visibility="public",
            author_kind=AuthorKind.CLIENT,
        )
        assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS
        stored = Message.objects.get(pk=message.pk)
        assert (stored.author_id, stored.author_kind) == (None, "client")


def test_a_client_writing_on_a_case_in_work_changes_only_its_time(cast):
    case = make_case(actor=cast.alice)
    services.case_transition(actor=cast.alice, case=case, to_status=CaseStatus.IN_PROGRESS)
    later = timezone.now() + timedelta(minutes=7)
    services.message_add(
        actor=None, case=case, body="Ещё", visibility="public", author_kind="client", now=later
    )
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.updated_at) == (CaseStatus.IN_PROGRESS, later)
    assert CaseEvent.objects.filter(case=case, field="status").count() == 1


def test_a_specialists_internal_note_on_a_new_case_does_not_take_it_into_work(cast):
    case = make_case(actor=cast.alice)
    handoff_send(actor=cast.alice, case=case, department=cast.security, question="Проверьте")
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.NEW)
    case.refresh_from_db()
    later = timezone.now() + timedelta(minutes=2)
    note = services.message_add(
        actor=cast.sam, case=case, body="Смотрю операции", visibility="internal", now=later
    )
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.updated_at) == (CaseStatus.NEW, later)
    assert Message.objects.get(pk=note.pk).author_id == cast.sam.pk


def test_a_system_message_on_a_new_case_takes_it_into_work(cast):
    case = make_case(actor=cast.alice)
    services.message_add(actor=None, case=case, body="Автоответ", visibility="public")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS


# --- topics -------------------------------------------------------------------------------


def test_a_topic_is_not_merged_into_itself(cast):
    topic = TopicFactory(name="Автообмен")
    assert _refusal(lambda: services.topic_merge(source=topic, into=topic)) == {
        "topic": ["Тему нельзя объединить саму с собой."]
    }
    topic.refresh_from_db()
