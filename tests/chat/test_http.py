"""The widget's HTTP API (long-polling fallback, CORS, attachments) and the operator pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from otklik.chat import services
from otklik.chat.models import ChatMessage, Conversation, ConversationStatus
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

BANK = "https://bank.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


def _start(client, origin=BANK) -> tuple[int, str]:
    response = client.post(
        reverse("chat:api_start"), content_type="application/json", data={}, HTTP_ORIGIN=origin
    )
    assert response.status_code == 201, response.content
    data = response.json()
    return data["conversation"], data["token"]


@override_settings(OTKLIK_CHAT_ALLOWED_ORIGINS=[BANK])
def test_allowed_site_gets_cors_and_others_are_refused(client):
    response = client.options(reverse("chat:api_start"), HTTP_ORIGIN=BANK)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == BANK
    assert "X-Chat-Token" in response["Access-Control-Allow-Headers"]
    conversation_id, token = _start(client)
    evil = client.post(
        reverse("chat:api_start"),
        content_type="application/json",
        data={},
        HTTP_ORIGIN="https://evil.example",
    )
    assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil
    poll = client.get(
        reverse("chat:api_poll", args=[conversation_id]),
        HTTP_ORIGIN="https://evil.example",
        HTTP_X_CHAT_TOKEN=token,
    )
    assert poll.status_code == 403


@override_settings(OTKLIK_CHAT_ALLOWED_ORIGINS=[BANK])
def test_long_polling_post_dedupe_and_catch_up(client, kb):
    conversation_id, token = _start(client)
    headers = {"HTTP_ORIGIN": BANK, "HTTP_X_CHAT_TOKEN": token}
    url = reverse("chat:api_post", args=[conversation_id])
    body = {"client_msg_id": "w-1", "body": "С карты списали деньги, не понимаю кто"}
    first = client.post(url, content_type="application/json", data=body, **headers)
    again = client.post(url, content_type="application/json", data=body, **headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["seq"] == again.json()["seq"] and again.json()["duplicate"]
    poll = client.get(reverse("chat:api_poll", args=[conversation_id]), {"after_seq": 1}, **headers)
    seqs = [m["seq"] for m in poll.json()["messages"]]
    assert seqs == list(range(2, seqs[-1] + 1)) and len(seqs) >= 2  # question, bot answer
    assert poll.json()["messages"][-1]["sender"] == "bot"
    assert poll["Access-Control-Allow-Origin"] == BANK
    # Without the token the chat does not exist.
    assert client.get(reverse("chat:api_poll", args=[conversation_id])).status_code == 404


def test_portal_client_is_identified_when_starting_from_the_portal(client):
    from otklik.portal.auth import SESSION_CLIENT

    person = ClientFactory()
    session = client.session
    session[SESSION_CLIENT] = person.pk
    session.save()
    conversation_id, _ = _start(client, origin="http://testserver")
    assert Conversation.objects.get(pk=conversation_id).client == person
    assert client.get(reverse("chat:portal")).status_code == 200


def _upload(client, conversation_id, token, name, content, **extra):
    return client.post(
        reverse("chat:api_upload", args=[conversation_id]),
        {
            "file": SimpleUploadedFile(name, content),
            "client_msg_id": extra.get("cid", f"f-{abs(hash(name))}"),
        },
        HTTP_X_CHAT_TOKEN=token,
    )


@override_settings(OTKLIK_CHAT_MAX_ATTACHMENT_BYTES=1024)
@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("virus.exe", b"MZ" + b"\x00" * 10, "not accepted"),
        ("scan.pdf", b"<html><script>alert(1)</script>", "not really"),
        ("photo.png", PNG + b"\x00" * 2000, "larger"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_attachment_validation_refuses_bad_files(client, name, content, reason, settings):
    settings.LANGUAGE_CODE = "en"
    conversation_id, token = _start(client, origin="http://testserver")
    response = _upload(client, conversation_id, token, name, content, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert (
        not ChatMessage.objects.filter(conversation_id=conversation_id)
        .exclude(attachment="")
        .exists()
    )


def test_attachment_path_tricks_are_neutralised_and_served_safely(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    conversation_id, token = _start(client, origin="http://testserver")
    response = _upload(client, conversation_id, token, "../../../etc/cron.d/x.png", PNG)
    assert response.status_code == 201, response.content
    message = ChatMessage.objects.get(pk=response.json()["id"])
    assert message.attachment_name == "x.png"
    assert message.attachment.name.startswith(f"chat/{conversation_id}/")
    assert ".." not in message.attachment.name and "cron" not in message.attachment.name
    served = client.get(response.json()["message"]["attachment"]["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    pdf = _upload(client, conversation_id, token, "выписка.pdf", PDF)
    served = client.get(pdf.json()["message"]["attachment"]["url"])
    assert served["Content-Disposition"].startswith("attachment")
    assert client.get(reverse("chat:file", args=["forged"])).status_code == 404


def test_messages_are_rendered_as_text_on_the_operator_page(client, cast, kb):
    conversation, _ = services.conversation_start()
    services.visitor_post(conversation=conversation, body="<script>alert(1)</script> оператор")
    conversation.refresh_from_db()
    services.chat_take(actor=cast.alice, conversation=conversation)
    client.force_login(cast.alice)
    page = client.get(reverse("chat:conversation", args=[conversation.pk]))
    assert page.status_code == 200
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content


def test_queue_take_reply_and_permissions(client, cast, kb):
    conversation, _ = services.conversation_start()
    services.visitor_post(
        conversation=conversation, body="С карты списали деньги, позовите оператора"
    )
    client.force_login(cast.alice)
    queue = client.get(reverse("chat:queue"))
    assert queue.status_code == 200
    assert "С карты списали деньги".encode() in queue.content  # the bot transcript preview
    client.post(reverse("chat:take", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert (
        conversation.status == ConversationStatus.ASSIGNED and conversation.operator == cast.alice
    )
    client.post(
        reverse("chat:conversation_action", args=[conversation.pk, "reply"]),
        {"body": "Здравствуйте! Проверю списание."},
    )
    assert conversation.messages.filter(sender_kind="operator").exists()
    # Team B's operator and a non-invited specialist do not see Alice's chat.
    client.force_login(cast.bob)
    assert client.get(reverse("chat:conversation", args=[conversation.pk])).status_code == 404
    client.force_login(cast.sam)
    assert client.get(reverse("chat:conversation", args=[conversation.pk])).status_code == 404
    # Once security is invited, its specialist sees it and can join.
    client.force_login(cast.alice)
    client.post(
        reverse("chat:conversation_action", args=[conversation.pk, "invite"]),
        {"department": cast.security.pk, "note": "Звонок не проходит, клиент за границей"},
    )
    client.force_login(cast.sam)
    assert client.get(reverse("chat:conversation", args=[conversation.pk])).status_code == 200
    client.post(reverse("chat:conversation_action", args=[conversation.pk, "join"]))
    assert conversation.participants.filter(pk=cast.sam.pk).exists()


def test_unanswered_page_is_for_editors(client, cast, kb):
    conversation, _ = services.conversation_start()
    services.visitor_post(conversation=conversation, body="хочу узнать погоду в москве")
    client.force_login(cast.alice)
    assert client.get(reverse("chat:unanswered")).status_code == 403
    client.force_login(cast.sue)
    page = client.get(reverse("chat:unanswered"))
    assert page.status_code == 200 and "погоду".encode() in page.content


def test_demo_page_embeds_the_widget(client):
    page = client.get(reverse("chat:demo"))
    assert page.status_code == 200 and b"chat/widget.js" in page.content
