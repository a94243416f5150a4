"""Every service that stores free text stores it with identifiers redacted.

The numbers below are what people really type: a card read out on the phone, a passport
for a power of attorney, a СНИЛС and an ИНН for a tax deduction.
"""

import pytest
from django.utils import timezone

from otklik.cases.models import Interaction, Message
from otklik.cases.services import interaction_register, message_add
from otklik.handoffs.models import Handoff, HandoffEvent
from otklik.handoffs.services import handoff_answer, handoff_send
from otklik.portal.services import portal_reply, portal_request_open
from tests.factories import ClientFactory, make_case

pytestmark = pytest.mark.django_db

PAN = "4561 2612 1234 5467"
TAIL = "Сумма 15 000 ₽, тел. +7 912 574-03-61, до 03.12.2026"
TYPED = f"Карта {PAN}, паспорт 45 01 123456, СНИЛС 112-233-445 95, ИНН 500100732259. {TAIL}"
STORED = f"Карта •••• 5467, паспорт •••• 3456, СНИЛС •••• 4595, ИНН •••• 2259. {TAIL}"


def test_case_note_reply_subject_and_call_summary_are_stored_redacted(cast):
    case = make_case(actor=cast.alice, subject=f"Блокировка карты {PAN}", description=TYPED)
    assert case.subject == "Блокировка карты •••• 5467"
    note = case.messages.get()
    assert note.body == STORED
    reply = message_add(actor=cast.alice, case=case, body=TYPED, visibility="public")
    interaction = interaction_register(
        actor=cast.alice, client=case.client, channel="phone", case=case, summary=TYPED
    )
    assert Message.objects.get(pk=reply.pk).body == STORED
    assert Interaction.objects.get(pk=interaction.pk).summary == STORED


def test_portal_messages_are_stored_redacted(cast):
    client = ClientFactory()
    case = portal_request_open(client=client, subject="Вопрос по карте", body=TYPED)
    assert case.messages.get().body == STORED
    message = portal_reply(client=client, case=case, body=TYPED)
    assert Message.objects.get(pk=message.pk).body == STORED


def test_handoff_question_and_answer_are_stored_redacted(cast):
    case = make_case(actor=cast.alice)
    handoff = handoff_send(actor=cast.alice, case=case, department=cast.security, question=TYPED)
    assert Handoff.objects.get(pk=handoff.pk).question == STORED
    handoff.assignee = cast.sam
    handoff.save(update_fields=["assignee"])
    handoff_answer(actor=cast.sam, handoff=handoff, answer=TYPED, now=timezone.now())
    handoff.refresh_from_db()
    assert handoff.answer == STORED
    texts = HandoffEvent.objects.filter(handoff=handoff).values_list("text", flat=True)
    assert all("4561" not in t and "123456" not in t for t in texts)
    assert all(PAN not in m.body for m in case.messages.all())
