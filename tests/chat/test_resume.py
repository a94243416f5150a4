"""Story 002: a portal client who opens the chat while one is open gets that chat back, with
its history, on any device; a closed chat, another client or an anonymous visitor never do."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from otklik.chat import services
from otklik.chat.models import Conversation
from otklik.portal.auth import SESSION_CLIENT
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

OWN = "http://testserver"


def _device(person) -> HttpClient:
    """A browser of its own (own cookies, own storage) where `person` is logged in."""
    device = HttpClient()
    session = device.session
    session[SESSION_CLIENT] = person.pk
    session.save()
    return device


def _start(device: HttpClient):
    return device.post(reverse("chat:api_start"), content_type="application/json", HTTP_ORIGIN=OWN)


def _poll(device: HttpClient, conversation_id: int, token: str):
    return device.get(
        reverse("chat:api_poll", args=[conversation_id]), {"after_seq": 0}, HTTP_X_CHAT_TOKEN=token
    )


def test_an_open_chat_resumes_with_its_history_on_another_device():
    person = ClientFactory()
    phone, laptop = _device(person), _device(person)
    first = _start(phone)
    assert first.status_code == 201 and first.json()["resumed"] is False
    chat_id, phone_token = first.json()["conversation"], first.json()["token"]
    conversation = Conversation.objects.get(pk=chat_id)
    services.visitor_post(conversation=conversation, body="Где мой перевод?", client_msg_id="p-1")

    second = _start(laptop)
    assert second.status_code == 200 and second.json()["resumed"] is True
    assert second.json()["conversation"] == chat_id
    laptop_token = second.json()["token"]
    assert laptop_token != phone_token
    assert Conversation.objects.filter(client=person).count() == 1
    history = _poll(laptop, chat_id, laptop_token).json()["messages"]
    assert "Где мой перевод?" in [m["body"] for m in history]
    # Both devices keep writing to the same chat.
    for device, token, cid in ((laptop, laptop_token, "l-1"), (phone, phone_token, "p-2")):
        posted = device.post(
            reverse("chat:api_post", args=[chat_id]),
            {"body": f"с устройства {cid}", "client_msg_id": cid},
            content_type="application/json",
            HTTP_X_CHAT_TOKEN=token,
        )
        assert posted.status_code == 201
    bodies = [m["body"] for m in _poll(phone, chat_id, phone_token).json()["messages"]]
    assert "с устройства l-1" in bodies and "с устройства p-2" in bodies


def test_a_closed_chat_is_not_resumed():
    person = ClientFactory()
    first = _start(_device(person)).json()
    services.chat_close(conversation=Conversation.objects.get(pk=first["conversation"]))
    again = _start(_device(person))
    assert again.status_code == 201 and again.json()["conversation"] != first["conversation"]


def test_another_client_or_an_anonymous_visitor_never_get_the_chat():
    owner, other = ClientFactory(), ClientFactory()
    chat_id = _start(_device(owner)).json()["conversation"]
    assert _start(_device(other)).json()["conversation"] != chat_id
    anonymous = HttpClient().post(
        reverse("chat:api_start"), content_type="application/json", HTTP_ORIGIN=OWN
    )
    assert anonymous.status_code == 201 and anonymous.json()["conversation"] != chat_id
    # A stranger's token for another chat opens nothing here.
    stranger = anonymous.json()["token"]
    assert _poll(HttpClient(), chat_id, stranger).status_code == 404
