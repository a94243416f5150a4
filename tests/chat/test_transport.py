"""The chat WebSocket: acks, catch-up after seq with injected disconnects, origins.

Runs on the in-memory channel layer, or on Redis when REDIS_URL is set (see conftest).
"""

import random

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from otklik.chat import services
from otklik.chat.models import ChatMessage, Conversation, SenderKind
from otklik.chat.routing import websocket_urlpatterns

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_persistent_connections"),
]
OWN = (b"origin", b"http://testserver")


def _ws(conversation_id, user=None, headers=None):
    app = URLRouter(websocket_urlpatterns)
    communicator = WebsocketCommunicator(
        app, f"/ws/chat/{conversation_id}/", headers=headers or [OWN]
    )
    if user is not None:
        communicator.scope["user"] = user
    return communicator


async def _hello(communicator, *, token=None, after_seq=0) -> tuple[list[dict], dict]:
    connected, _ = await communicator.connect()
    assert connected
    frame = {"type": "hello", "after_seq": after_seq}
    if token:
        frame["token"] = token
    await communicator.send_json_to(frame)
    messages = []
    while True:
        data = await communicator.receive_json_from(timeout=5)
        if data["type"] == "ready":
            return messages, data["conversation"]
        if data["type"] == "message":
            messages.append(data["message"])


async def _drain(communicator, timeout=0.3) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=timeout):
        frames.append(await communicator.receive_json_from(timeout=1))
    return frames


def _start():
    return services.conversation_start()


def test_visitor_message_is_acked_then_delivered_once_in_order(db):
    conversation, token = _start()

    async def scenario():
        ws = _ws(conversation.pk)
        history, _state = await _hello(ws, token=token)
        assert [m["seq"] for m in history] == [1]  # the bot's greeting
        await ws.send_json_to({"type": "message", "client_msg_id": "m-1", "body": "<b>Привет</b>"})
        frames = await _drain(ws, timeout=0.5)
        acks = [f for f in frames if f["type"] == "ack"]
        delivered = [f["message"] for f in frames if f["type"] == "message"]
        assert acks == [
            {
                "type": "ack",
                "client_msg_id": "m-1",
                "id": acks[0]["id"],
                "seq": 2,
                "duplicate": False,
            }
        ]
        assert delivered[0]["seq"] == 2 and delivered[0]["body"] == "<b>Привет</b>"
        assert [m["seq"] for m in delivered] == sorted({m["seq"] for m in delivered})
        # A resend with the same client id is acknowledged with the same seq, stored once.
        await ws.send_json_to({"type": "message", "client_msg_id": "m-1", "body": "<b>Привет</b>"})
        again = [f for f in await _drain(ws) if f["type"] == "ack"]
        assert again[0]["seq"] == 2 and again[0]["duplicate"] is True
        await ws.disconnect()

    async_to_sync(scenario)()
    assert ChatMessage.objects.filter(conversation=conversation, client_msg_id="m-1").count() == 1


def test_reconnect_with_injected_disconnects_loses_and_duplicates_nothing(db, cast):
    """A visitor and the operator write while the visitor's socket drops at random moments;
    the widget's behaviour is replayed: resend unacked messages with the same ids, resume
    after the last seq seen. At the end both sides hold every message exactly once, in order.
    """
    conversation, token = _start()
    services.handoff(conversation=conversation, reason="test")
    conversation.refresh_from_db()
    services.chat_take(actor=cast.alice, conversation=conversation)
    rng = random.Random(6)
    to_send = [(f"v-{i}", f"сообщение {i}") for i in range(30)]

    async def scenario():
        seen: list[int] = []
        outbox = list(to_send)
        operator = _ws(conversation.pk, user=cast.alice)
        op_history, _ = await _hello(operator)
        op_seen = [m["seq"] for m in op_history]
        while outbox:
            ws = _ws(conversation.pk)
            history, _ = await _hello(ws, token=token, after_seq=seen[-1] if seen else 0)
            seen.extend(m["seq"] for m in history)
            burst = rng.randint(1, 5)
            for client_id, body in outbox[:burst]:
                await ws.send_json_to({"type": "message", "client_msg_id": client_id, "body": body})
            if rng.random() < 0.5:
                await database_sync_to_async(services.staff_post)(
                    actor=cast.alice, conversation=conversation, body="ответ оператора"
                )
            # Read only part of what the server sent, then drop the connection.
            acked = set()
            for _ in range(rng.randint(0, burst * 2)):
                if await ws.receive_nothing(timeout=0.05):
                    break
                frame = await ws.receive_json_from(timeout=1)
                if frame["type"] == "ack":
                    acked.add(frame["client_msg_id"])
                elif frame["type"] == "message":
                    seen.append(frame["message"]["seq"])
            await ws.disconnect()
            outbox = [item for item in outbox if item[0] not in acked]
        # A last clean connection catches up the tail.
        ws = _ws(conversation.pk)
        history, state = await _hello(ws, token=token, after_seq=seen[-1])
        seen.extend(m["seq"] for m in history)
        await ws.disconnect()
        op_seen.extend(
            f["message"]["seq"] for f in await _drain(operator) if f["type"] == "message"
        )
        await operator.disconnect()
        return seen, op_seen, state

    seen, op_seen, state = async_to_sync(scenario)()
    stored = list(
        ChatMessage.objects.filter(conversation=conversation)
        .order_by("seq")
        .values_list("seq", "internal", "sender_kind", "client_msg_id")
    )
    visible = [s for s, internal, *_ in stored if not internal]
    assert seen == visible  # zero loss, zero duplicates, order kept
    assert op_seen == [s for s, *_ in stored]
    assert state["last_seq"] == stored[-1][0]
    visitor_ids = [c for _, _, kind, c in stored if kind == SenderKind.VISITOR]
    assert sorted(visitor_ids) == sorted(c for c, _ in to_send)  # each stored exactly once


def test_a_message_arriving_before_its_predecessor_is_preceded_from_the_database(db, monkeypatch):
    conversation, token = _start()

    async def scenario():
        ws = _ws(conversation.pk)
        await _hello(ws, token=token, after_seq=1)
        pushed = []
        monkeypatch.setattr(services.messages, "_push_message", pushed.append)  # hold live delivery
        for text in ("один", "два"):
            await database_sync_to_async(services.visitor_post)(
                conversation=await database_sync_to_async(Conversation.objects.get)(
                    pk=conversation.pk
                ),
                body=text,
            )
        # Only the second message reaches the group: the first must still come, first.
        from channels.layers import get_channel_layer

        from otklik.chat.selectors import message_json

        data = await database_sync_to_async(message_json)(pushed[-1])
        await get_channel_layer().group_send(
            services.group_name(conversation.pk), {"type": "chat.message", "message": data}
        )
        frames = [f["message"] for f in await _drain(ws) if f["type"] == "message"]
        await ws.disconnect()
        return frames, [m.seq for m in pushed]

    frames, pushed = async_to_sync(scenario)()
    assert [m["seq"] for m in frames] == list(range(2, pushed[-1] + 1))


def test_wrong_token_and_anonymous_staff_are_refused(db):
    conversation, token = _start()

    async def scenario():
        ws = _ws(conversation.pk)
        await ws.connect()
        await ws.send_json_to({"type": "hello", "token": token + "x"})
        assert (await ws.receive_output(timeout=2))["type"] == "websocket.close"
        ws = _ws(conversation.pk)
        await ws.connect()
        await ws.send_json_to({"type": "message", "body": "без hello"})
        assert (await ws.receive_output(timeout=2))["type"] == "websocket.close"

    async_to_sync(scenario)()


def test_staff_session_from_a_foreign_site_is_refused_and_internal_notes_stay_internal(db, cast):
    conversation, token = _start()
    services.handoff(conversation=conversation, reason="test")
    conversation.refresh_from_db()
    services.chat_take(actor=cast.alice, conversation=conversation)

    async def scenario():
        foreign = _ws(
            conversation.pk, user=cast.alice, headers=[(b"origin", b"https://evil.example")]
        )
        await foreign.connect()
        await foreign.send_json_to({"type": "hello"})
        assert (await foreign.receive_output(timeout=2))["type"] == "websocket.close"

        outsider = _ws(conversation.pk, user=cast.bob)  # team B, not his chat
        await outsider.connect()
        await outsider.send_json_to({"type": "hello"})
        assert (await outsider.receive_output(timeout=2))["type"] == "websocket.close"

        visitor = _ws(conversation.pk)
        await _hello(visitor, token=token, after_seq=0)
        operator = _ws(conversation.pk, user=cast.alice)
        await _hello(operator)
        await operator.send_json_to(
            {"type": "message", "client_msg_id": "n1", "body": "заметка", "internal": True}
        )
        await operator.send_json_to({"type": "typing"})
        op_frames = await _drain(operator)
        visitor_frames = await _drain(visitor)
        await visitor.disconnect()
        await operator.disconnect()
        return op_frames, visitor_frames

    op_frames, visitor_frames = async_to_sync(scenario)()
    assert any(f["type"] == "message" and f["message"]["internal"] for f in op_frames)
    assert not any(f["type"] == "message" and f["message"]["internal"] for f in visitor_frames)
    assert {"type": "typing", "side": "staff", "name": cast.alice.display_name} in visitor_frames
    assert not any(f["type"] == "typing" for f in op_frames)  # not echoed to the typist


@override_settings(OTKLIK_CHAT_ALLOWED_ORIGINS=["https://bank.example"])
def test_websocket_origin_checks_for_the_widget(db):
    from otklik.asgi import application as project
    from otklik.chat.origins import ChatOriginValidator

    assert isinstance(project.application_mapping["websocket"], ChatOriginValidator)
    # The project's validator around the routes (sessions are not needed here).
    application = ChatOriginValidator(URLRouter(websocket_urlpatterns))
    conversation, _token = _start()

    async def attempt(origin: bytes, path: str) -> bool:
        ws = WebsocketCommunicator(application, path, headers=[(b"origin", origin)])
        connected, _ = await ws.connect()
        if connected:
            await ws.disconnect()
        return connected

    async def scenario():
        chat = f"/ws/chat/{conversation.pk}/"
        return (
            await attempt(b"https://bank.example", chat),
            await attempt(b"http://testserver", chat),
            await attempt(b"https://evil.example", chat),
            await attempt(b"https://bank.example", "/ws/live/"),
        )

    bank, own, evil, bank_live = async_to_sync(scenario)()
    assert bank and own
    assert not evil
    assert not bank_live  # the embedding site reaches only the chat socket
