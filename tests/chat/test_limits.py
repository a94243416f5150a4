"""Issue 10, finding 7: the anonymous widget is rate limited, over HTTP and the socket.

Chat starts are limited per address, visitor messages per chat; refused ones are not
stored, not answered by the bot and never reach operators; the visitor is told in
Russian when to try again.
"""

import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from otklik.chat import limits, services
from otklik.chat.models import ChatMessage, Conversation
from otklik.chat.routing import websocket_urlpatterns

OWN = (b"origin", b"http://testserver")


def _fresh_window(seconds: int, need: float = 8.0) -> None:
    """Limits count in clock-aligned windows: start a burst well inside one."""
    into = time.time() % seconds
    if seconds - into < need:
        time.sleep(seconds - into + 0.05)


def _visitor_messages(conversation) -> int:
    return ChatMessage.objects.filter(conversation=conversation, sender_kind="visitor").count()


@pytest.mark.django_db
def test_chat_starts_are_limited_per_address(client, settings):
    settings.OTKLIK_CHAT_STARTS_PER_ADDRESS = 5
    _fresh_window(limits.START_WINDOW_SECONDS)
    for _ in range(5):
        ok = client.post("/chat/api/start/", REMOTE_ADDR="198.51.100.20")
        assert ok.status_code == 201
    refused = client.post("/chat/api/start/", REMOTE_ADDR="198.51.100.20")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    message = refused.json()["errors"]["__all__"][0]
    assert "Слишком много новых чатов" in message and "Повторите через" in message
    assert Conversation.objects.count() == 5
    assert client.post("/chat/api/start/", REMOTE_ADDR="198.51.100.21").status_code == 201


@pytest.mark.django_db
def test_messages_are_limited_per_chat_over_http(client, settings):
    settings.OTKLIK_CHAT_MESSAGES_PER_MINUTE = 5
    started = client.post("/chat/api/start/").json()
    headers = {"HTTP_X_CHAT_TOKEN": started["token"]}
    url = f"/chat/api/{started['conversation']}/messages/"
    _fresh_window(limits.MESSAGE_WINDOW_SECONDS)
    for n in range(5):
        response = client.post(
            url, {"body": f"вопрос {n}", "client_msg_id": f"m{n}"}, "application/json", **headers
        )
        assert response.status_code == 201
    refused = client.post(
        url, {"body": "ещё", "client_msg_id": "m9"}, "application/json", **headers
    )
    assert refused.status_code == 429
    assert "слишком часто" in refused.json()["errors"]["body"][0]
    conversation = Conversation.objects.get(pk=started["conversation"])
    assert _visitor_messages(conversation) == 5
    assert not ChatMessage.objects.filter(conversation=conversation, body="ещё").exists()


@pytest.mark.django_db
def test_the_chat_accepts_messages_again_in_the_next_minute(settings):
    settings.OTKLIK_CHAT_MESSAGES_PER_MINUTE = 2
    conversation, _token = services.conversation_start()
    now = timezone.now()
    for n in range(2):
        services.visitor_post(
            conversation=conversation, body=f"{n}", client_msg_id=f"a{n}", now=now
        )
    with pytest.raises(limits.ChatThrottled) as refused:
        services.visitor_post(conversation=conversation, body="x", client_msg_id="a9", now=now)
    assert now < refused.value.retry_at <= now + timedelta(seconds=60)
    services.visitor_post(
        conversation=conversation, body="снова", client_msg_id="b", now=refused.value.retry_at
    )
    assert _visitor_messages(conversation) == 3


@pytest.mark.django_db(transaction=True)
def test_messages_are_limited_per_chat_over_the_socket(settings):
    settings.OTKLIK_CHAT_MESSAGES_PER_MINUTE = 5
    conversation, token = services.conversation_start()

    async def scenario():
        ws = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/chat/{conversation.pk}/", headers=[OWN]
        )
        connected, _ = await ws.connect()
        assert connected
        await ws.send_json_to({"type": "hello", "after_seq": 0, "token": token})
        while (await ws.receive_json_from(timeout=5))["type"] != "ready":
            pass
        for n in range(8):
            await ws.send_json_to({"type": "message", "client_msg_id": f"w{n}", "body": f"{n}"})
        acks, errors = [], []
        while len(acks) + len(errors) < 8:
            frame = await ws.receive_json_from(timeout=10)
            if frame["type"] == "ack":
                acks.append(frame)
            elif frame["type"] == "error":
                errors.append(frame)
        await ws.disconnect()
        return acks, errors

    _fresh_window(limits.MESSAGE_WINDOW_SECONDS, need=15)
    acks, errors = async_to_sync(scenario)()
    assert len(acks) == 5 and len(errors) == 3
    assert all("Повторите через" in e["message"] for e in errors)
    assert {e["client_msg_id"] for e in errors} == {"w5", "w6", "w7"}
    assert _visitor_messages(conversation) == 5


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_widget_tells_the_visitor_when_to_write_again(browser, kb, tmp_path, artifacts_dir):
    from tests.chat.server import Server, database_url

    server = Server(database_url(tmp_path), extra_env={"OTKLIK_CHAT_MESSAGES_PER_MINUTE": "3"})
    server.start()
    try:
        context = browser.new_context(viewport={"width": 390, "height": 800}, locale="ru-RU")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(server.url + "/chat/demo/")
        page.locator(".launcher").click()
        box = page.locator(".composer textarea")
        _fresh_window(limits.MESSAGE_WINDOW_SECONDS, need=20)
        for n in range(4):
            box.fill(f"Вопрос номер {n + 1}")
            box.press("Enter")
        error = page.locator(".error").filter(has_text="слишком часто")
        error.wait_for()
        assert "Повторите через" in error.inner_text()
        page.screenshot(path=str(artifacts_dir / "chat_widget_throttled.png"))
        context.close()
    finally:
        server.kill()


@pytest.mark.django_db
def test_resends_of_one_message_do_not_count(settings):
    settings.OTKLIK_CHAT_MESSAGES_PER_MINUTE = 2
    conversation, _token = services.conversation_start()
    now = timezone.now()
    for _ in range(5):  # the widget resends what was not acknowledged yet
        services.visitor_post(conversation=conversation, body="раз", client_msg_id="same", now=now)
    services.visitor_post(conversation=conversation, body="два", client_msg_id="other", now=now)
    assert _visitor_messages(conversation) == 2
