"""A client's whole history built through the services, at chosen times, for retention tests.

Time is controlled the way the rest of the suite does it: every service takes `now`, and
the retention run is given the clock it should believe (`retention_run(now=...)`).
"""

from datetime import datetime, timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from otklik.cases.models import Case, CaseStatus, Interaction, MessageVisibility
from otklik.cases.services import case_transition, interaction_register, message_add
from otklik.chat import services as chat
from otklik.chat.files import CheckedAttachment
from otklik.chat.models import Conversation
from otklik.clients.models import Client
from otklik.clients.services import client_create
from otklik.handoffs.models import HandoffAttachment
from otklik.handoffs.services import handoff_answer, handoff_send, handoff_take
from tests.factories import make_case

PDF = b"%PDF-1.7\n%%EOF"
YEAR = timedelta(days=365)
DAY = timedelta(days=1)


def a_client(name: str = "Орлова", phone: str = "+7 916 555-12-34") -> Client:
    return client_create(
        last_name=name,
        first_name="Марина",
        patronymic="Викторовна",
        phones=[phone],
        emails=[f"{phone[-5:].replace('-', '')}@example.ru"],
    )


def closed_case_with_history(cast, client: Client, *, at: datetime) -> Case:
    """A case about a card, a call on it, a note, a handoff with a scan, then closed at `at`."""
    case = make_case(
        actor=cast.alice, client=client, subject="Карта 2200 7000 заблокирована", now=at
    )
    interaction_register(
        actor=cast.alice,
        client=client,
        channel="phone",
        case=case,
        summary="Клиент за границей, паспорт 4510 123456",
        now=at,
    )
    message_add(
        actor=cast.alice,
        case=case,
        body="Клиентка просит перезвонить на +7 916 555-12-34",
        visibility=MessageVisibility.INTERNAL,
        now=at,
    )
    handoff = handoff_send(
        actor=cast.alice,
        case=case,
        department=cast.security,
        question="Проверьте операции по карте",
        files=[SimpleUploadedFile("паспорт.pdf", PDF, content_type="application/pdf")],
        now=at,
    )
    handoff_take(actor=cast.sam, handoff=handoff, now=at)
    handoff_answer(actor=cast.sam, handoff=handoff, answer="Операции проверены", now=at)
    case.refresh_from_db()
    for status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case = case_transition(actor=cast.alice, case=case, to_status=status, now=at)
    return case


def open_case_with_history(cast, client: Client, *, at: datetime) -> Case:
    """A case opened at `at` and still being worked: a call, a handoff with a file."""
    case = make_case(actor=cast.alice, client=client, subject="Арест счёта", now=at)
    interaction_register(
        actor=cast.alice, client=client, channel="phone", case=case, summary="Звонок", now=at
    )
    handoff_send(
        actor=cast.alice,
        case=case,
        department=cast.security,
        question="Что с арестом?",
        files=[SimpleUploadedFile("решение.pdf", PDF, content_type="application/pdf")],
        now=at,
    )
    return case


def answered_call(cast, client: Client, *, at: datetime) -> Interaction:
    """A call that opened a case which was answered and closed the same day."""
    call = interaction_register(
        actor=cast.alice,
        client=client,
        channel="phone",
        new_case_subject="Курс валют",
        summary="Спросила курс, паспорт 4510 123456",
        now=at,
    )
    for status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case_transition(actor=cast.alice, case=call.case, to_status=status, now=at)
    return call


def closed_chat(client: Client | None, *, at: datetime) -> Conversation:
    """A chat with a file from the visitor, closed by the visitor at `at`."""
    conversation, _raw = chat.conversation_start(client=client, origin="https://bank.test", now=at)
    chat.visitor_post(
        conversation=conversation,
        attachment=CheckedAttachment("скан.pdf", "application/pdf", PDF),
        now=at,
    )
    chat.chat_close(conversation=conversation, now=at)
    conversation.refresh_from_db()
    return conversation


def files_on_disk(root) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def handoff_files(case: Case) -> list[HandoffAttachment]:
    return list(HandoffAttachment.objects.filter(handoff__case=case))
