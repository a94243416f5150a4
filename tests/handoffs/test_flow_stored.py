"""The handoff workflow as the database keeps it, with two cases and two handoffs where
scoping matters, and what each person is told (found by mutation testing: docs/testing.md)."""

import pytest
from django.utils import translation

from otklik.cases.models import CaseStatus
from otklik.common.errors import ServiceError
from otklik.handoffs import services
from otklik.handoffs.models import Handoff, HandoffEvent, HandoffEventKind, HandoffStatus
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox
from otklik.sla.models import Deadline
from tests.factories import make_case


@pytest.fixture(autouse=True)
def _in_russian():
    """The words are checked in Russian, whatever language an earlier test left active."""
    with translation.override("ru"):
        yield


pytestmark = pytest.mark.django_db


def _send(staff, case, department=None, question="Проверьте операции по карте"):
    return services.handoff_send(
        actor=staff.alice, case=case, department=department or staff.security, question=question
    )


def test_the_answer_deadline_is_stored_on_the_handoff(staff, case):
    handoff = _send(staff, case)
    stored = Handoff.objects.get(pk=handoff.pk)
    deadline = Deadline.objects.get(handoff=handoff, kind="handoff_answer")
    assert stored.due_at is not None and stored.due_at == deadline.due_at


def test_another_cases_open_handoff_does_not_keep_this_case_waiting(staff, case, client_abroad):
    other = make_case(actor=staff.alice, client=client_abroad, subject="Второе обращение")
    mine = _send(staff, case)
    _send(staff, other, question="Другой вопрос по другому обращению")
    services.handoff_answer(actor=staff.sam, handoff=mine, answer="Ограничение снято.")
    case.refresh_from_db()
    other.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert other.status == CaseStatus.WAITING_DEPARTMENT


def test_cancelling_one_handoff_leaves_the_other_handoffs_clock_running(staff, case):
    first = _send(staff, case)
    second = _send(staff, case, department=staff.treasury, question="Курс на дату операции?")
    services.handoff_cancel(actor=staff.alice, handoff=first, reason="Клиент решил сам.")
    first_deadline = Deadline.objects.get(handoff=first)
    second_deadline = Deadline.objects.get(handoff=second)
    assert first_deadline.cancelled_at is not None
    assert second_deadline.cancelled_at is None and second_deadline.met_at is None
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_DEPARTMENT  # treasury still owes an answer


def test_only_the_departments_specialists_may_ask_the_owner(staff, case):
    handoff = _send(staff, case)
    for outsider in (staff.tom, staff.alice, staff.bob):  # treasury, the owner, an operator
        with pytest.raises(ServiceError) as refused:
            services.handoff_ask_owner(actor=outsider, handoff=handoff, question="Клиент в чате?")
        assert refused.value.message_dict == {
            "handoff": [
                "С этим запросом работают только специалисты подразделения «Служба безопасности»."
            ]
        }
    assert Handoff.objects.get(pk=handoff.pk).status == HandoffStatus.OPEN
    assert not HandoffEvent.objects.filter(handoff=handoff, kind="question").exists()


def test_each_event_keeps_its_actor_and_the_cancel_reason(staff, case):
    handoff = _send(staff, case)
    services.handoff_take(actor=staff.sam, handoff=handoff)
    services.handoff_cancel(actor=staff.olga, handoff=handoff, reason="  Клиент решил сам.  ")
    events = list(
        HandoffEvent.objects.filter(handoff=handoff)
        .order_by("pk")
        .values_list("kind", "actor_id", "text")
    )
    assert events == [
        (HandoffEventKind.SENT, staff.alice.pk, "Проверьте операции по карте"),
        (HandoffEventKind.TAKEN, staff.sam.pk, ""),
        (HandoffEventKind.CANCELLED, staff.olga.pk, "Клиент решил сам."),
    ]
    stored = Handoff.objects.get(pk=handoff.pk)
    assert (stored.status, stored.assignee_id) == (HandoffStatus.CANCELLED, staff.sam.pk)


def test_what_the_owner_is_told_when_the_department_answers(staff, case, settings):
    settings.OTKLIK_PUBLIC_URL = "https://desk.example.ru/"
    handoff = _send(staff, case)
    services.handoff_take(actor=staff.sam, handoff=handoff)
    live_mark = LiveEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    mail_mark = Outbox.objects.order_by("-pk").values_list("pk", flat=True).first()
    services.handoff_answer(actor=staff.sam, handoff=handoff, answer="Пусть позвонит на 900.")

    [live] = LiveEvent.objects.filter(pk__gt=live_mark, user=staff.alice)
    assert live.kind == "handoff.answered"
    assert live.payload == {
        "handoff_id": handoff.pk,
        "event": "answered",
        "url": f"/cases/{case.pk}/",
    }
    [mail] = Outbox.objects.filter(pk__gt=mail_mark, user=staff.alice)
    event = HandoffEvent.objects.get(handoff=handoff, kind="answered")
    assert mail.key == f"handoff-{handoff.pk}-answered-{event.pk}-{staff.alice.pk}"
    assert (mail.channel, mail.address) == ("email", "alice@otklik.test")
    assert mail.subject == f"Служба безопасности: ответ по обращению {case.reference}"
    assert mail.case_id == case.pk
    assert mail.body.splitlines() == [
        f"Служба безопасности: ответ по обращению {case.reference}",
        "",
        "Пусть позвонит на 900.",
        "",
        f"Кто: {staff.sam.display_name}",
        f"Обращение: https://desk.example.ru/cases/{case.pk}/",
        f"Запрос: https://desk.example.ru/handoffs/{handoff.pk}/",
    ]


def test_specialists_of_the_department_hear_of_a_new_handoff_with_its_link(staff, case):
    handoff = _send(staff, case)
    [news] = LiveEvent.objects.filter(kind="handoff.new")
    assert news.user_id == staff.sam.pk  # security's specialist, not treasury's
    assert news.case_id == case.pk
    assert news.payload == {"handoff_id": handoff.pk, "url": f"/handoffs/{handoff.pk}/"}
