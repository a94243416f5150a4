"""Defect 6: the chat transcript on the operator's own clock (07:24 UTC is 17:24 in Vladivostok)."""

from datetime import UTC, datetime

from django.urls import reverse

from otklik.chat.models import ChatMessage
from otklik.chat.services import conversation_start, visitor_post
from tests.factories import ClientFactory

AT = datetime(2026, 12, 3, 7, 24, tzinfo=UTC)


def test_chat_transcript_is_on_the_operators_clock(client, cast, kb, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    conversation, _token = conversation_start(client=ClientFactory(), now=AT)
    visitor_post(conversation=conversation, body="позовите оператора", now=AT)
    ChatMessage.objects.filter(conversation=conversation).update(created_at=AT)
    cast.sue.time_zone = "Asia/Vladivostok"
    cast.sue.save()
    client.force_login(cast.sue)
    page = client.get(reverse("chat:conversation", args=[conversation.pk])).content.decode()
    assert ">17:24<" in page and ">07:24<" not in page and ">10:24<" not in page
