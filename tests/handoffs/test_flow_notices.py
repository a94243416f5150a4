"""Who is told what at each step of a handoff, what the case keeps, read back from the database.

Found by mutation testing (docs/testing.md): the recipients' rules (inactive, no e-mail,
the assignee on a reply or a cancel), the lines of each e-mail, the case history each step
writes, and who takes the case on control.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from otklik.accounts.models import Role
from otklik.audit.models import AuditRecord
from otklik.cases.models import CaseEvent, CaseStatus, EventKind, Message, MessageVisibility
from otklik.clients.models import ChannelKind, Reachability
from otklik.handoffs import services
from otklik.handoffs.models import CaseWatch, Handoff, HandoffAttachment, HandoffStatus
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_russian(settings):
    settings.OTKLIK_PUBLIC_URL = "https://desk.example.ru/"
    with translation.override("ru"):
        yield


def _send(staff, case, actor=None, department=None, question="Проверьте операции по карте"):
    return services.handoff_send(
        actor=actor or staff.alice,
        case=case,
        department=department or staff.security,
        question=question,
    )


def _mark() -> tuple[int, int]:
    live = LiveEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    mail = Outbox.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return live, mail


def _told(mark) -> tuple[dict, dict]:
    """Live events and e-mails written since `mark`, by recipient."""
    live = LiveEvent.objects.filter(pk__gt=mark[0]).exclude(kind="handoff.new")
    mails = Outbox.objects.filter(pk__gt=mark[1])
    return {e.user_id: e for e in live}, {m.user_id: m for m in mails}


def _links(case, handoff) -> list[str]:
    return [
        f"Обращение: https://desk.example.ru/cases/{case.pk}/",
        f"Запрос: https://desk.example.ru/handoffs/{handoff.pk}/",
    ]


def test_sending_tells_the_owner_when_a_colleague_sends_and_both_take_the_case_on_control(
    staff, case
):
    mark = _mark()
    handoff = _send(staff, case, actor=staff.olga, question="Клиент за границей")
    live, mails = _told(mark)
    assert set(live) == set(mails) == {staff.alice.pk}
    headline = f"Запрос в «Служба безопасности» по обращению {case.reference}"
    assert live[staff.alice.pk].kind == "handoff.sent"
    assert live[staff.alice.pk].text == headline
    mail = mails[staff.alice.pk]
    assert mail.subject == headline
    assert mail.body.splitlines() == [
        headline,
        "",
        "Клиент за границей",
        "",
        f"Кто: {staff.olga.display_name}",
        *_links(case, handoff),
    ]
    assert mail.payload == {
        "handoff_id": handoff.pk,
        "event": "sent",
        "url": f"/cases/{case.pk}/",
    }
    watchers = set(CaseWatch.objects.filter(case=case).values_list("user_id", flat=True))
    assert watchers == {staff.alice.pk, staff.olga.pk}


def test_the_case_waits_for_the_department_and_its_history_names_it(staff, case):
    assert case.status == CaseStatus.NEW
    _send(staff, case)
    _send(staff, case, department=staff.treasury, question="Курс на дату операции?")
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_DEPARTMENT
    changes = CaseEvent.objects.filter(case=case, kind=EventKind.STATUS_CHANGED)
    assert list(changes.values_list("old_value", "new_value", "actor_id")) == [
        (CaseStatus.NEW, CaseStatus.WAITING_DEPARTMENT, staff.alice.pk)
    ]  # once: the second handoff finds the case already waiting
    sent = CaseEvent.objects.filter(case=case, kind=EventKind.HANDOFF).order_by("pk")
    assert list(sent.values_list("field", "new_value", "actor_id")) == [
        ("department", "Служба безопасности", staff.alice.pk),
        ("department", "Казначейство", staff.alice.pk),
    ]


def test_an_answered_case_stays_answered_when_a_department_is_asked(staff, case):
    from otklik.cases.services import case_transition

    case_transition(actor=staff.alice, case=case, to_status=CaseStatus.ANSWERED)
    _send(staff, case)
    case.refresh_from_db()
    assert case.status == CaseStatus.ANSWERED  # the lifecycle has no answered → waiting


def test_only_active_specialists_of_the_department_hear_of_a_new_handoff(staff, case):
    UserFactory(username="ivan", role=Role.SPECIALIST, department=staff.security, is_active=False)
    handoff = _send(staff, case)
    news = LiveEvent.objects.filter(kind="handoff.new")
    assert list(news.values_list("user_id", "text")) == [
        (staff.sam.pk, f"Запрос в «Служба безопасности» по обращению {case.reference}")
    ]
    assert Handoff.objects.get(pk=handoff.pk).created_by_id == staff.alice.pk


def test_inactive_watchers_hear_nothing_and_those_without_e_mail_only_live(staff, case):
    services.case_watch(actor=staff.olga, case=case)
    services.case_watch(actor=staff.sue, case=case)
    staff.olga.is_active = False
    staff.olga.save(update_fields=["is_active"])
    staff.sue.email = ""
    staff.sue.save(update_fields=["email"])
    handoff = _send(staff, case)
    mark = _mark()
    services.handoff_take(actor=staff.sam, handoff=handoff)
    live, mails = _told(mark)
    assert set(live) == {staff.alice.pk, staff.sue.pk}
    assert set(mails) == {staff.alice.pk}
    headline = f"Служба безопасности: запрос по обращению {case.reference} взят в работу"
    assert live[staff.sue.pk].text == headline and live[staff.sue.pk].case_id == case.pk
    assert mails[staff.alice.pk].body.splitlines() == [
        headline,
        "",
        f"Кто: {staff.sam.display_name}",
        *_links(case, handoff),
    ]


def test_nobody_to_tell_writes_nothing(staff, case):
    """The owner acting on a case nobody else watches: no live event, no e-mail."""
    handoff = _send(staff, case)
    LiveEvent.objects.all().delete()
    services.handoff_cancel(actor=staff.alice, handoff=handoff)
    assert not LiveEvent.objects.exists()
    assert not Outbox.objects.filter(key__contains="cancelled").exists()


def test_the_question_to_the_owner_is_told_with_its_words(staff, case):
    handoff = _send(staff, case)
    mark = _mark()
    asked = services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Клиент в чате?")
    assert asked.status == HandoffStatus.QUESTION
    stored = Handoff.objects.get(pk=handoff.pk)
    assert (stored.status, stored.assignee_id) == (HandoffStatus.QUESTION, staff.sam.pk)
    live, mails = _told(mark)
    headline = f"Служба безопасности: вопрос владельцу по обращению {case.reference}"
    assert live[staff.alice.pk].kind == "handoff.question"
    assert mails[staff.alice.pk].body.splitlines() == [
        headline,
        "",
        "Клиент в чате?",
        "",
        f"Кто: {staff.sam.display_name}",
        *_links(case, handoff),
    ]


def test_asking_and_answering_keep_the_specialist_who_took_it(staff, case):
    handoff = _send(staff, case)
    services.handoff_take(actor=staff.sue, handoff=handoff)
    services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Клиент в чате?")
    assert Handoff.objects.get(pk=handoff.pk).assignee_id == staff.sue.pk
    services.handoff_owner_reply(actor=staff.alice, handoff=handoff, reply="Да")
    services.handoff_answer(actor=staff.sam, handoff=handoff, answer="Готово.")
    assert Handoff.objects.get(pk=handoff.pk).assignee_id == staff.sue.pk


def test_the_owners_reply_reaches_the_specialist_who_asked(staff, case):
    handoff = _send(staff, case)
    services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Клиент в чате?")
    mark = _mark()
    replied = services.handoff_owner_reply(actor=staff.alice, handoff=handoff, reply="Да, в чате.")
    assert replied.status == HandoffStatus.IN_WORK
    assert Handoff.objects.get(pk=handoff.pk).status == HandoffStatus.IN_WORK
    live, mails = _told(mark)
    assert set(live) == set(mails) == {staff.sam.pk}
    headline = f"Владелец ответил на вопрос «Служба безопасности» по обращению {case.reference}"
    assert live[staff.sam.pk].kind == "handoff.reply"
    assert mails[staff.sam.pk].body.splitlines() == [
        headline,
        "",
        "Да, в чате.",
        "",
        f"Кто: {staff.alice.display_name}",
        *_links(case, handoff),
    ]


def test_a_cancel_tells_the_specialist_working_it_why(staff, case):
    handoff = _send(staff, case)
    services.handoff_take(actor=staff.sam, handoff=handoff)
    mark = _mark()
    cancelled = services.handoff_cancel(
        actor=staff.alice, handoff=handoff, reason="Клиент решил вопрос в чате."
    )
    assert cancelled.status == HandoffStatus.CANCELLED
    live, mails = _told(mark)
    assert set(live) == set(mails) == {staff.sam.pk}
    headline = f"Запрос в «Служба безопасности» по обращению {case.reference} отменён"
    assert (live[staff.sam.pk].kind, live[staff.sam.pk].text) == ("handoff.cancelled", headline)
    assert mails[staff.sam.pk].body.splitlines() == [
        headline,
        "",
        "Клиент решил вопрос в чате.",
        "",
        f"Кто: {staff.alice.display_name}",
        *_links(case, handoff),
    ]
    history = CaseEvent.objects.filter(case=case).order_by("pk")
    cancel = history.get(kind=EventKind.HANDOFF, field="cancelled")
    assert (cancel.new_value, cancel.actor_id) == ("Служба безопасности", staff.alice.pk)
    back = history.filter(kind=EventKind.STATUS_CHANGED).last()
    assert (back.old_value, back.new_value, back.actor_id) == (
        CaseStatus.WAITING_DEPARTMENT,
        CaseStatus.IN_PROGRESS,
        staff.alice.pk,
    )


def test_a_cancel_without_a_reason_has_no_empty_lines(staff, case):
    handoff = _send(staff, case)
    services.handoff_take(actor=staff.sam, handoff=handoff)
    mark = _mark()
    services.handoff_cancel(actor=staff.alice, handoff=handoff, reason="   ")
    _live, mails = _told(mark)
    assert mails[staff.sam.pk].body.splitlines()[:2] == [
        f"Запрос в «Служба безопасности» по обращению {case.reference} отменён",
        "",
    ]
    assert mails[staff.sam.pk].body.splitlines()[2] == f"Кто: {staff.alice.display_name}"


def test_the_answer_lands_on_the_case_with_its_files(staff, case):
    handoff = _send(staff, case)
    files = [
        SimpleUploadedFile("выписка.pdf", b"%PDF-1.7\n%%EOF", "application/pdf"),
        SimpleUploadedFile("note.txt", "Клиент за границей".encode(), "text/plain"),
    ]
    answered = services.handoff_answer(
        actor=staff.sam, handoff=handoff, answer="Ограничение снято.", files=files
    )
    assert answered.status == HandoffStatus.ANSWERED
    stored = Handoff.objects.get(pk=handoff.pk)
    assert (stored.status, stored.answer, stored.assignee_id) == (
        HandoffStatus.ANSWERED,
        "Ограничение снято.",
        staff.sam.pk,
    )
    assert stored.answered_at is not None
    note = Message.objects.get(case=case, author=staff.sam)
    assert note.visibility == MessageVisibility.INTERNAL
    assert note.body.splitlines() == [
        "Ответ подразделения «Служба безопасности»:",
        "Ограничение снято.",
        "Файлы: выписка.pdf, note.txt",
    ]
    names = HandoffAttachment.objects.filter(event__kind="answered").values_list("name", flat=True)
    assert sorted(names) == ["note.txt", "выписка.pdf"]
    answered_event = CaseEvent.objects.get(case=case, kind=EventKind.HANDOFF, field="answered")
    assert (answered_event.new_value, answered_event.actor_id) == (
        "Служба безопасности",
        staff.sam.pk,
    )


def test_an_answer_without_files_has_no_files_line(staff, case):
    handoff = _send(staff, case)
    services.handoff_answer(actor=staff.sam, handoff=handoff, answer="Ограничение снято.")
    note = Message.objects.get(case=case, author=staff.sam)
    assert note.body.splitlines() == [
        "Ответ подразделения «Служба безопасности»:",
        "Ограничение снято.",
    ]


def test_unwatching_one_case_keeps_the_other_cases_and_the_other_watchers(staff, case):
    other = make_case(actor=staff.alice, client=case.client, subject="Второе обращение")
    for user in (staff.olga, staff.sue):
        for watched in (case, other):
            services.case_watch(actor=user, case=watched)
    again = services.case_watch(actor=staff.olga, case=case)  # a second click changes nothing
    assert CaseWatch.objects.filter(case=case, user=staff.olga).get() == again
    services.case_unwatch(actor=staff.olga, case=case)
    left = set(CaseWatch.objects.values_list("case_id", "user_id"))
    assert left == {(other.pk, staff.olga.pk), (case.pk, staff.sue.pk), (other.pk, staff.sue.pk)}


def test_reachability_is_told_to_the_owner_watchers_and_working_specialists(staff, case):
    services.case_watch(actor=staff.olga, case=case)
    taken = _send(staff, case)
    services.handoff_take(actor=staff.sam, handoff=taken)
    waiting = _send(staff, case, department=staff.treasury, question="Курс?")  # nobody took it
    assert waiting.assignee_id is None
    phone = case.client.contacts.get(kind=ChannelKind.PHONE)
    services.case_contact_set_reachability(
        actor=staff.olga,
        case=case,
        contact=phone,
        reachability=Reachability.LIMITED,
        note="за границей",
    )
    told = LiveEvent.objects.filter(kind="case.reachability")
    assert set(told.values_list("user_id", flat=True)) == {staff.alice.pk, staff.sam.pk}
    label = "Телефон +7 916 555-12-34"
    assert told.first().text == (
        f"Изменена доступность клиента по обращению {case.reference}: Ограничен за границей"
    )
    event = CaseEvent.objects.get(case=case, field="reachability")
    assert (event.old_value, event.new_value, event.actor_id) == (
        f"{label}: Доступен",
        f"{label}: Ограничен за границей",
        staff.olga.pk,
    )
    audit = AuditRecord.objects.get(action="contact.reachability")
    assert (audit.actor_id, audit.client_id, audit.detail) == (
        staff.olga.pk,
        case.client_id,
        "Ограничен за границей",
    )
