"""Every refusal of the handoff workflow, in the words the user reads, and nothing stored.

Each permission check is tried with a user who must be refused; each empty or stale step
with the message the form shows (found by mutation testing: docs/testing.md).
"""

import pytest
from django.utils import translation

from otklik.cases.models import CaseEvent, CaseStatus, Message
from otklik.cases.services import case_transition
from otklik.clients.models import ChannelKind, Reachability
from otklik.common.errors import ConflictError, ServiceError
from otklik.handoffs import services
from otklik.handoffs.models import CaseWatch, Handoff, HandoffEvent, HandoffStatus
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

NOT_CONTROLLER = (
    "Это может только владелец обращения, его команда или тот, кто взял обращение на контроль."
)
NOT_WORKER = "С этим запросом работают только специалисты подразделения «Служба безопасности»."
TOO_LONG = "Текст длиннее 5 000 символов."


@pytest.fixture(autouse=True)
def _in_russian():
    with translation.override("ru"):
        yield


@pytest.fixture
def handoff(staff, case):
    return services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Проверьте операции"
    )


def _refused(call) -> dict:
    with pytest.raises(ServiceError) as refused:
        call()
    return refused.value.message_dict


def _stored(handoff) -> Handoff:
    return Handoff.objects.get(pk=handoff.pk)


def _events(handoff) -> list[str]:
    return list(HandoffEvent.objects.filter(handoff=handoff).values_list("kind", flat=True))


# --- empty and overlong texts ---------------------------------------------------------------


def test_an_empty_question_is_refused_with_what_to_write(staff, case):
    words = _refused(
        lambda: services.handoff_send(
            actor=staff.alice, case=case, department=staff.security, question="  \n "
        )
    )
    assert words == {"question": ["Напишите вопрос для подразделения."]}
    assert not Handoff.objects.exists()


def test_a_question_of_5000_characters_is_kept_and_one_more_refused(staff, case):
    longest = "в" * 5000
    sent = services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question=f"  {longest}  "
    )
    assert _stored(sent).question == longest
    words = _refused(
        lambda: services.handoff_send(
            actor=staff.alice, case=case, department=staff.security, question=longest + "в"
        )
    )
    assert words == {"question": [TOO_LONG]}
    assert Handoff.objects.count() == 1


def test_each_step_names_the_text_it_misses(staff, handoff):
    words = _refused(
        lambda: services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="")
    )
    assert words == {"question": ["Напишите, что нужно от владельца обращения."]}
    services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Клиент в чате?")
    words = _refused(
        lambda: services.handoff_owner_reply(actor=staff.alice, handoff=handoff, reply=" ")
    )
    assert words == {"reply": ["Напишите ответ для подразделения."]}
    words = _refused(lambda: services.handoff_answer(actor=staff.sam, handoff=handoff, answer=""))
    assert words == {"answer": ["Напишите ответ подразделения."]}
    assert _stored(handoff).status == HandoffStatus.QUESTION
    assert _events(handoff) == ["sent", "question"]


def test_overlong_replies_and_answers_are_refused(staff, handoff):
    services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Клиент в чате?")
    too_long = "о" * 5001
    words = _refused(
        lambda: services.handoff_owner_reply(actor=staff.alice, handoff=handoff, reply=too_long)
    )
    assert words == {"reply": [TOO_LONG]}
    words = _refused(
        lambda: services.handoff_answer(actor=staff.sam, handoff=handoff, answer=too_long)
    )
    assert words == {"answer": [TOO_LONG]}
    assert _stored(handoff).status == HandoffStatus.QUESTION


def test_card_numbers_in_the_texts_are_stored_masked(staff, handoff):
    services.handoff_ask_owner(
        actor=staff.sam, handoff=handoff, question="Это карта 2200 7000 0000 0009?"
    )
    stored = HandoffEvent.objects.get(handoff=handoff, kind="question").text
    assert "2200 7000 0000 0009" not in stored and "0009" in stored


# --- who may do what ----------------------------------------------------------------------


def test_only_the_departments_specialists_or_a_supervisor_take_and_answer(staff, handoff):
    for outsider in (staff.tom, staff.alice, staff.olga, staff.bob):
        assert _refused(lambda u=outsider: services.handoff_take(actor=u, handoff=handoff)) == {
            "handoff": [NOT_WORKER]
        }
        assert _refused(
            lambda u=outsider: services.handoff_answer(actor=u, handoff=handoff, answer="Ответ")
        ) == {"handoff": [NOT_WORKER]}
    staff.sam.is_active = False
    staff.sam.save(update_fields=["is_active"])
    assert _refused(lambda: services.handoff_take(actor=staff.sam, handoff=handoff)) == {
        "handoff": [NOT_WORKER]
    }
    assert _stored(handoff).status == HandoffStatus.OPEN and _events(handoff) == ["sent"]
    services.handoff_take(actor=staff.sue, handoff=handoff)  # the supervisor may
    assert (_stored(handoff).status, _stored(handoff).assignee_id) == (
        HandoffStatus.IN_WORK,
        staff.sue.pk,
    )


def test_only_who_controls_the_case_sends_replies_or_cancels(staff, case, handoff):
    services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Клиент в чате?")
    for outsider in (staff.bob, staff.pavel, staff.sam, staff.tom):
        assert _refused(
            lambda u=outsider: services.handoff_send(
                actor=u, case=case, department=staff.treasury, question="Вопрос"
            )
        ) == {"case": [NOT_CONTROLLER]}
        assert _refused(
            lambda u=outsider: services.handoff_owner_reply(actor=u, handoff=handoff, reply="Да")
        ) == {"case": [NOT_CONTROLLER]}
        assert _refused(
            lambda u=outsider: services.handoff_cancel(actor=u, handoff=handoff, reason="Не нужно")
        ) == {"case": [NOT_CONTROLLER]}
    assert Handoff.objects.filter(case=case).count() == 1
    assert _stored(handoff).status == HandoffStatus.QUESTION
    assert _events(handoff) == ["sent", "question"]


def test_a_watcher_of_another_team_may_steer_once_on_control(staff, case, handoff):
    services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Клиент в чате?")
    # pavel (personal manager, team B) sees the case as the client's manager, but it is not
    # his team's: he may steer only once he takes it on control
    case.client.personal_manager = staff.pavel
    case.client.save(update_fields=["personal_manager"])
    assert _refused(
        lambda: services.handoff_owner_reply(actor=staff.pavel, handoff=handoff, reply="Да")
    ) == {"case": [NOT_CONTROLLER]}
    services.case_watch(actor=staff.pavel, case=case)
    services.handoff_owner_reply(actor=staff.pavel, handoff=handoff, reply="Да, в чате.")
    assert _stored(handoff).status == HandoffStatus.IN_WORK


def test_a_finished_case_is_not_sent_to_a_department(staff, case):
    case_transition(actor=staff.alice, case=case, to_status=CaseStatus.RESOLVED)
    words = _refused(
        lambda: services.handoff_send(
            actor=staff.alice, case=case, department=staff.security, question="Вопрос"
        )
    )
    assert words == {
        "case": ["Обращение завершено; чтобы спросить подразделение, откройте его снова."]
    }
    assert not Handoff.objects.exists()
    assert not CaseEvent.objects.filter(case=case, kind="handoff").exists()


def test_specialists_do_not_take_a_case_on_control(staff, case, handoff):
    words = _refused(lambda: services.case_watch(actor=staff.sam, case=case))
    assert words == {"case": ["Специалисты подразделений следят за обращением через запрос."]}
    assert _refused(lambda: services.case_watch(actor=staff.bob, case=case)) == {
        "case": ["Специалисты подразделений следят за обращением через запрос."]
    }
    assert not CaseWatch.objects.filter(user__in=[staff.sam, staff.bob]).exists()


# --- the status a step needs ----------------------------------------------------------------


def test_a_second_take_is_told_who_was_first(staff, handoff):
    services.handoff_take(actor=staff.sam, handoff=handoff)
    with pytest.raises(ConflictError) as refused:
        services.handoff_take(actor=staff.sue, handoff=handoff)
    assert refused.value.message_dict == {
        "status": ["Запрос уже в статусе «Взят в работу»; обновите страницу."]
    }
    assert _stored(handoff).assignee_id == staff.sam.pk
    assert _events(handoff) == ["sent", "taken"]


def test_a_stale_page_is_told_the_status_the_handoff_has_now(staff, handoff):
    stale = Handoff.objects.get(pk=handoff.pk)  # the specialist's page, loaded before
    services.handoff_cancel(actor=staff.alice, handoff=handoff, reason="Клиент решил сам.")
    for step in (
        lambda: services.handoff_take(actor=staff.sam, handoff=stale),
        lambda: services.handoff_ask_owner(actor=staff.sam, handoff=stale, question="Ещё?"),
        lambda: services.handoff_answer(actor=staff.sam, handoff=stale, answer="Поздно."),
        lambda: services.handoff_cancel(actor=staff.olga, handoff=stale),
    ):
        assert _refused(step) == {"status": ["Запрос уже в статусе «Отменён»; обновите страницу."]}
    assert _events(handoff) == ["sent", "cancelled"]
    assert not Message.objects.filter(case=handoff.case, author=staff.sam).exists()


def test_only_a_pending_question_can_be_replied_to_and_an_answered_handoff_is_final(staff, handoff):
    assert _refused(
        lambda: services.handoff_owner_reply(actor=staff.alice, handoff=handoff, reply="Да")
    ) == {"status": ["Запрос уже в статусе «Отправлен»; обновите страницу."]}
    services.handoff_answer(actor=staff.sam, handoff=handoff, answer="Готово.")
    for step in (
        lambda: services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Ещё?"),
        lambda: services.handoff_cancel(actor=staff.alice, handoff=handoff),
        lambda: services.handoff_answer(actor=staff.sam, handoff=handoff, answer="Ещё раз"),
    ):
        assert _refused(step) == {
            "status": ["Запрос уже в статусе «Дан ответ»; обновите страницу."]
        }
    assert _stored(handoff).status == HandoffStatus.ANSWERED
    assert _events(handoff) == ["sent", "answered"]


# --- reachability -------------------------------------------------------------------------


def test_reachability_refusals_are_worded_and_change_nothing(staff, case):
    phone = case.client.contacts.get(kind=ChannelKind.PHONE)
    assert _refused(
        lambda: services.case_contact_set_reachability(
            actor=staff.tom, case=case, contact=phone, reachability=Reachability.LIMITED
        )
    ) == {"case": ["Это обращение вам недоступно."]}
    stranger = ClientFactory().contacts.get()
    assert _refused(
        lambda: services.case_contact_set_reachability(
            actor=staff.alice, case=case, contact=stranger, reachability=Reachability.LIMITED
        )
    ) == {"contact": ["Этот контакт принадлежит другому клиенту."]}
    assert _refused(
        lambda: services.case_contact_set_reachability(
            actor=staff.alice, case=case, contact=phone, reachability="on_mars"
        )
    ) == {"reachability": ["Неизвестное значение доступности."]}
    phone.refresh_from_db()
    stranger.refresh_from_db()
    assert phone.reachability == stranger.reachability == Reachability.REACHABLE
    assert not CaseEvent.objects.filter(field="reachability").exists()
    assert not LiveEvent.objects.filter(kind="case.reachability").exists()
    assert not Outbox.objects.exists()
