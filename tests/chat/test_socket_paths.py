"""The chat socket's short paths (issue 6): one database trip per hello and per message,
a chat kept between frames but reloaded before each write, resends found by the unique
constraint, live sends made by the socket after the commit, a lazily swept memory layer.
"""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from otklik.chat import layers, services
from otklik.chat.models import ChatMessage, Conversation, ConversationStatus
from otklik.chat.routing import websocket_urlpatterns
from otklik.chat.selectors import chat_opening, conversation_refresh

OWN = (b"origin", b"http://testserver")


def _ws(conversation_id, user=None):
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/chat/{conversation_id}/", headers=[OWN]
    )
    if user is not None:
        communicator.scope["user"] = user
    return communicator


async def _hello(communicator, token=None) -> None:
    connected, _ = await communicator.connect()
    assert connected
    frame = {"type": "hello", "after_seq": 0}
    if token:
        frame["token"] = token
    await communicator.send_json_to(frame)
    while (await communicator.receive_json_from(timeout=5))["type"] != "ready":
        pass


async def _frames(communicator, timeout=0.5) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=timeout):
        frames.append(await communicator.receive_json_from(timeout=1))
    return frames


def _assigned_to(operator):
    conversation, token = services.conversation_start()
    services.handoff(conversation=conversation, reason="test")
    conversation.refresh_from_db()
    services.chat_take(actor=operator, conversation=conversation)
    return conversation, token


# --- services and selectors ---------------------------------------------------------------


def test_a_resend_returns_the_stored_message_and_claims_no_seq(db):
    conversation, _token = services.conversation_start()
    first, created = services.visitor_post(conversation=conversation, body="раз", client_msg_id="a")
    assert created
    last_seq = Conversation.objects.get(pk=conversation.pk).last_seq
    again, created = services.visitor_post(conversation=conversation, body="раз", client_msg_id="a")
    assert not created and again.pk == first.pk and again.seq == first.seq
    assert Conversation.objects.get(pk=conversation.pk).last_seq == last_seq  # no gap
    nxt, _ = services.visitor_post(conversation=conversation, body="два", client_msg_id="b")
    assert nxt.seq == last_seq + 1
    assert ChatMessage.objects.filter(conversation=conversation, client_msg_id="a").count() == 1


def test_refresh_reloads_the_chat_and_keeps_only_still_valid_relations(
    db, cast, django_assert_num_queries
):
    conversation, _token = _assigned_to(cast.alice)
    held = Conversation.objects.select_related("operator", "case").get(pk=conversation.pk)
    Conversation.objects.filter(pk=held.pk).update(
        operator=cast.bob, status=ConversationStatus.CLOSED, last_seq=99
    )
    with django_assert_num_queries(1):
        conversation_refresh(held)
        assert held.case.pk == conversation.case_id  # same key: still cached
    assert (held.status, held.last_seq, held.operator_id) == ("closed", 99, cast.bob.pk)
    assert held.operator == cast.bob  # changed key: the stale object was dropped


def test_a_visitor_hello_is_one_trip_to_the_database(db, django_assert_num_queries):
    conversation, token = services.conversation_start()
    services.visitor_post(conversation=conversation, body="вопрос", client_msg_id="q")
    with django_assert_num_queries(2):  # the chat with its operator and rating; the backlog
        opening = chat_opening(conversation_id=conversation.pk, token=token, after_seq=1, limit=500)
    assert opening.side == "visitor"
    assert [m.seq for m in opening.backlog] == list(range(2, opening.state["last_seq"] + 1))
    assert opening.state["rated"] is False
    assert chat_opening(conversation_id=conversation.pk, token="x", after_seq=0, limit=5) is None
    assert chat_opening(conversation_id=conversation.pk, after_seq=0, limit=5) is None


def test_deferred_delivery_collects_live_sends_instead_of_sending(
    db, django_capture_on_commit_callbacks
):
    conversation, _token = services.conversation_start()
    conversation.status = ConversationStatus.ASSIGNED  # no bot answers in between
    Conversation.objects.filter(pk=conversation.pk).update(status=conversation.status)
    group = services.group_name(conversation.pk)

    def post(body: str, deferred: bool) -> list:
        # The commit callbacks run when the capture block ends: inside the deferral.
        if not deferred:
            with django_capture_on_commit_callbacks(execute=True):
                services.visitor_post(conversation=conversation, body=body, client_msg_id=body)
            return []
        with (
            services.deferred_delivery() as pending,
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.visitor_post(conversation=conversation, body=body, client_msg_id=body)
        return pending

    async def scenario():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)

        async def listen():
            try:
                return await asyncio.wait_for(layer.receive(channel), 0.5)
            except TimeoutError:
                return None

        pending = await sync_to_async(post)("quiet", True)
        held_back = await listen()
        listening = asyncio.ensure_future(listen())  # pub/sub layers drop unheard sends
        await asyncio.sleep(0.05)
        await sync_to_async(post)("loud", False)
        sent = await listening
        await layer.group_discard(group, channel)
        return pending, held_back, sent

    pending, held_back, sent = async_to_sync(scenario)()
    assert held_back is None
    assert [(g, e["type"], e["message"]["body"]) for g, e in pending] == [
        (group, "chat.message", "quiet")
    ]
    assert sent["message"]["body"] == "loud"


def test_the_memory_layer_sweeps_expired_messages_at_most_once_per_interval(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(layers.time, "monotonic", lambda: clock[0])
    layer = layers.InMemoryChannelLayer(expiry=60, sweep_interval=1.0)
    sweeps = []
    monkeypatch.setattr(
        layers.ChannelsInMemoryChannelLayer, "_clean_expired", lambda self: sweeps.append(1)
    )

    async def traffic():
        await layer.group_add("g", "c.x")
        for _ in range(5):
            await layer.group_send("g", {"type": "t"})
        clock[0] += 1.5
        await layer.group_send("g", {"type": "t"})

    async_to_sync(traffic)()
    assert len(sweeps) == 2  # the first send, then the first one after the interval


def test_the_memory_layer_still_drops_expired_messages(monkeypatch):
    layer = layers.InMemoryChannelLayer(expiry=0, sweep_interval=0)

    async def traffic():
        await layer.group_add("g", "c.x")
        await layer.send("c.x", {"type": "old"})
        await asyncio.sleep(0.01)
        await layer.group_send("g", {"type": "new"})  # the sweep drops "old" and the member
        return layer.groups.get("g", {}), "c.x" in layer.channels

    members, queued = async_to_sync(traffic)()
    assert members == {} and not queued


# --- the socket ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_persistent_connections")
def test_a_socket_sees_its_chat_closed_after_the_hello(db):
    conversation, token = services.conversation_start()

    async def scenario():
        ws = _ws(conversation.pk)
        await _hello(ws, token=token)
        await database_sync_to_async(
            lambda: services.chat_close(conversation=Conversation.objects.get(pk=conversation.pk))
        )()
        await _frames(ws, timeout=0.3)
        await ws.send_json_to({"type": "message", "client_msg_id": "late", "body": "ещё"})
        frames = await _frames(ws)
        await ws.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert [f["type"] for f in frames] == ["error"]
    assert frames[0]["client_msg_id"] == "late"
    assert not ChatMessage.objects.filter(conversation=conversation, client_msg_id="late").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_persistent_connections")
def test_an_operator_socket_stops_writing_once_the_chat_is_someone_elses(db, cast):
    conversation, _token = _assigned_to(cast.alice)

    async def scenario():
        ws = _ws(conversation.pk, user=cast.alice)
        await _hello(ws)
        await ws.send_json_to({"type": "message", "client_msg_id": "o1", "body": "здравствуйте"})
        before = await _frames(ws)
        await database_sync_to_async(
            lambda: Conversation.objects.filter(pk=conversation.pk).update(operator=cast.bob)
        )()
        await ws.send_json_to({"type": "message", "client_msg_id": "o2", "body": "и ещё"})
        after = await _frames(ws)
        await ws.disconnect()
        return before, after

    before, after = async_to_sync(scenario)()
    assert "ack" in [f["type"] for f in before]
    assert [f["type"] for f in after] == ["error"]
    assert not ChatMessage.objects.filter(conversation=conversation, client_msg_id="o2").exists()
