"""Identifiers typed into a chat, by the client or by staff, are stored redacted."""

import pytest

from otklik.cases.models import Message
from otklik.chat import services
from otklik.chat.models import ChatMessage, ChatRating
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

PAN = "4561-2612-1234-5467"


def test_both_sides_of_a_chat_are_stored_redacted(cast, kb, accepting):
    conversation, _token = services.conversation_start(client=ClientFactory())
    services.visitor_post(conversation=conversation, body="оператор")
    services.visitor_post(conversation=conversation, body=f"Моя карта {PAN}, спишите 1 500 ₽")
    conversation.refresh_from_db()
    operator = conversation.operator
    services.staff_post(
        actor=operator,
        conversation=conversation,
        body="Записал паспорт 45 01 123456 и СНИЛС 112-233-445 95",
    )
    other = cast.bob if operator == cast.alice else cast.alice
    services.chat_transfer(
        actor=operator, conversation=conversation, to_user=other, note=f"Карта {PAN}"
    )
    services.chat_close(conversation=conversation)
    services.chat_rate(conversation=conversation, score=5, comment=f"Спасибо, карта {PAN}")

    stored = list(ChatMessage.objects.values_list("body", flat=True))
    stored += list(Message.objects.filter(case=conversation.case).values_list("body", flat=True))
    stored += list(ChatRating.objects.values_list("comment", flat=True))
    text = "\n".join(stored)
    assert "Моя карта •••• 5467, спишите 1 500 ₽" in text
    assert "Записал паспорт •••• 3456 и СНИЛС •••• 4595" in text
    assert PAN not in text and "4561" not in text and "123456" not in text
    assert "112-233-445" not in text
