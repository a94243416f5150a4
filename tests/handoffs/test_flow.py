"""The story-002 workflow: send → take → ask the owner → reply → answer → on the case."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from otklik.cases.models import CaseEvent, CaseStatus, EventKind, Message, MessageVisibility
from otklik.common.errors import ConflictError, ServiceError
from otklik.handoffs import services
from otklik.handoffs.models import CaseWatch, HandoffEvent, HandoffStatus
from otklik.handoffs.selectors import case_waiting_on, department_queue
from otklik.sla.models import Deadline

pytestmark = pytest.mark.django_db


def _pdf(name="скан.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF", "application/pdf")


def test_full_flow(staff, case):
    alice, sam = staff.alice, staff.sam
    handoff = services.handoff_send(
        actor=alice,
        case=case,
        department=staff.security,
        question="Клиент за границей, звонки с коротких номеров не проходят. Как разблокировать?",
        files=[_pdf()],
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_DEPARTMENT
    assert handoff.status == HandoffStatus.OPEN
    deadline = Deadline.objects.get(handoff=handoff, kind="handoff_answer")
    assert deadline.is_open and handoff.due_at == deadline.due_at
    assert CaseWatch.objects.filter(case=case, user=alice).exists()  # the owner watches
    assert handoff.attachments.get().name == "скан.pdf"
    [row] = case_waiting_on(user=alice, case=case)
    assert row.remaining and not row.overdue

    services.handoff_take(actor=sam, handoff=handoff)
    assert (handoff.status, handoff.assignee) == (HandoffStatus.IN_WORK, sam)
    with pytest.raises(ConflictError):  # a second take loses
        services.handoff_take(actor=sam, handoff=handoff)

    services.handoff_ask_owner(actor=sam, handoff=handoff, question="Клиент сейчас в чате?")
    assert handoff.status == HandoffStatus.QUESTION
    [row] = case_waiting_on(user=alice, case=case)
    assert row.pending.text == "Клиент сейчас в чате?"

    services.handoff_owner_reply(actor=alice, handoff=handoff, reply="Да, в чате со мной.")
    assert handoff.status == HandoffStatus.IN_WORK

    services.handoff_answer(
        actor=sam,
        handoff=handoff,
        answer="Пометки сделаны: пусть клиент позвонит на 900, снимем ограничение.",
    )
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ANSWERED and handoff.answered_at is not None
    deadline.refresh_from_db()
    assert deadline.met_at is not None
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS  # back with the owner
    note = Message.objects.get(case=case, author=sam)
    assert note.visibility == MessageVisibility.INTERNAL
    assert "позвонит на 900" in note.body and "Служба безопасности" in note.body
    assert CaseEvent.objects.filter(case=case, kind=EventKind.HANDOFF, field="answered").exists()
    kinds = list(HandoffEvent.objects.filter(handoff=handoff).values_list("kind", flat=True))
    assert kinds == ["sent", "taken", "question", "reply", "answered"]
    assert case_waiting_on(user=alice, case=case) == []


def test_case_stays_waiting_while_another_department_works(staff, case):
    first = services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Разблокировка?"
    )
    services.handoff_send(
        actor=staff.alice, case=case, department=staff.treasury, question="Списания?"
    )
    services.handoff_answer(actor=staff.sam, handoff=first, answer="Готово.")
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_DEPARTMENT


def test_cancel_stops_the_clock_without_meeting_it(staff, case):
    handoff = services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Нужна проверка."
    )
    services.handoff_cancel(actor=staff.alice, handoff=handoff, reason="Клиент решил сам.")
    deadline = Deadline.objects.get(handoff=handoff)
    assert deadline.cancelled_at is not None and deadline.met_at is None
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    with pytest.raises(ServiceError):
        services.handoff_answer(actor=staff.sam, handoff=handoff, answer="Поздно.")


def test_refusals_name_the_field(staff, case):
    with pytest.raises(ServiceError) as exc:
        services.handoff_send(actor=staff.alice, case=case, department=staff.security, question=" ")
    assert "question" in exc.value.message_dict
    handoff = services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Вопрос"
    )
    with pytest.raises(ServiceError) as exc:
        services.handoff_answer(actor=staff.sam, handoff=handoff, answer="")
    assert "answer" in exc.value.message_dict
    with pytest.raises(ServiceError) as exc:  # no question pending: nothing to reply to
        services.handoff_owner_reply(actor=staff.alice, handoff=handoff, reply="Ответ")
    assert "status" in exc.value.message_dict


def test_queue_shows_overdue_first(staff, case, client_abroad):
    from tests.factories import make_case

    earlier = timezone.now() - timezone.timedelta(days=10)
    other = make_case(actor=staff.alice, client=client_abroad, subject="Старое обращение")
    fresh = services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Свежий"
    )
    old = services.handoff_send(
        actor=staff.alice, case=other, department=staff.security, question="Просрочен", now=earlier
    )
    rows = department_queue(user=staff.sam)
    assert [r.handoff for r in rows] == [old, fresh]
    assert rows[0].overdue and not rows[1].overdue
    assert rows[0].remaining  # «просрочено на …» from the SLA labels
