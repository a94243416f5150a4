"""Live workspace events over WebSocket (catch-up by id) and the HTTP fallback."""

import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.db import connections

from otklik.live.models import LiveEvent
from otklik.live.routing import websocket_urlpatterns
from otklik.live.services import publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_persistent_connections():
    """Consumers reach the database from a thread pool; close those connections after
    each call, or PostgreSQL's test database cannot be dropped at the end."""
    config = connections.settings["default"]
    saved = config.get("CONN_MAX_AGE", 0)
    config["CONN_MAX_AGE"] = 0
    yield
    config["CONN_MAX_AGE"] = saved


@pytest.fixture(autouse=True)
def _isolated_channel_layer(settings):
    """In-memory layer by default; Redis (with a private prefix) when REDIS_URL is set."""
    if django_settings.REDIS_URL:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [django_settings.REDIS_URL],
                    "prefix": f"otklik-test-{uuid.uuid4().hex[:8]}",
                },
            }
        }
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def _communicator(user, query=""):
    app = URLRouter(websocket_urlpatterns)
    communicator = WebsocketCommunicator(app, "/ws/live/" + query)
    communicator.scope["user"] = user
    return communicator


async def _publish(user_ids, text):
    events = await database_sync_to_async(publish)(user_ids=user_ids, kind="test", text=text)
    return events[0].pk


async def _receive_until_hello(communicator) -> tuple[list[dict], dict]:
    events = []
    while True:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "hello":
            return events, message
        events.append(message["event"])


def test_published_event_reaches_only_its_user(cast):
    async def scenario():
        alice = _communicator(cast.alice)
        bob = _communicator(cast.bob)
        assert (await alice.connect())[0]
        assert (await bob.connect())[0]
        await _receive_until_hello(alice)
        await _receive_until_hello(bob)

        event_id = await _publish([cast.alice.pk], "Вам передано обращение 7")
        message = await alice.receive_json_from(timeout=5)
        assert message["type"] == "event"
        assert message["event"]["id"] == event_id
        assert message["event"]["text"] == "Вам передано обращение 7"
        assert await bob.receive_nothing(timeout=0.3)  # another user's event never arrives
        await alice.disconnect()
        await bob.disconnect()

    async_to_sync(scenario)()


def test_reconnect_after_id_receives_exactly_the_missed_events_in_order(cast):
    async def scenario():
        first = _communicator(cast.alice)
        assert (await first.connect())[0]
        _, hello = await _receive_until_hello(first)
        seen = await _publish([cast.alice.pk], "first")
        assert (await first.receive_json_from(timeout=5))["event"]["id"] == seen
        await first.disconnect()

        missed = [await _publish([cast.alice.pk, cast.bob.pk], f"missed {i}") for i in range(3)]

        second = _communicator(cast.alice, f"?after={seen}")
        assert (await second.connect())[0]
        caught_up, hello = await _receive_until_hello(second)
        assert [e["id"] for e in caught_up] == missed
        assert [e["text"] for e in caught_up] == ["missed 0", "missed 1", "missed 2"]
        assert hello["last_id"] == missed[-1]
        assert hello["unread"] == 4

        live = await _publish([cast.alice.pk], "live again")
        message = await second.receive_json_from(timeout=5)
        assert message["event"]["id"] == live
        assert await second.receive_nothing(timeout=0.3)  # no duplicates
        await second.disconnect()

    async_to_sync(scenario)()


def test_catch_up_and_live_event_racing_are_not_duplicated(cast):
    """An event stored during the catch-up arrives once, though both paths carry it."""

    async def scenario():
        communicator = _communicator(cast.alice, "?after=0")
        connect = asyncio.ensure_future(communicator.connect())
        ids = [await _publish([cast.alice.pk], f"e{i}") for i in range(5)]
        assert (await connect)[0]
        received, hello = [], False
        while len(received) < len(ids) or not hello:
            message = await communicator.receive_json_from(timeout=5)
            if message["type"] == "event":
                received.append(message["event"]["id"])
            hello = hello or message["type"] == "hello"
        assert await communicator.receive_nothing(timeout=0.3)
        assert received == ids
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_anonymous_is_rejected():
    async def scenario():
        communicator = _communicator(AnonymousUser())
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4401

    async_to_sync(scenario)()


def test_http_fallback_lists_only_own_events_after_id_and_marks_read(cast, client):
    first = publish(user_ids=[cast.alice.pk, cast.bob.pk], kind="k", text="one")[0]
    second = publish(user_ids=[cast.alice.pk], kind="k", text="two")[0]
    publish(user_ids=[cast.bob.pk], kind="k", text="bob only")

    assert client.get("/live/events").status_code == 401
    client.force_login(cast.alice)
    data = client.get("/live/events", {"after": 0}).json()
    assert [e["text"] for e in data["events"]] == ["one", "two"]
    assert (data["unread"], data["last_id"]) == (2, second.pk)
    data = client.get("/live/events", {"after": first.pk}).json()
    assert [e["id"] for e in data["events"]] == [second.pk]

    response = client.post("/live/events/read", {"up_to": first.pk})
    assert response.json() == {"marked": 1, "unread": 1}
    response = client.post(
        "/live/events/read", {"ids": [second.pk]}, content_type="application/json"
    )
    assert response.json() == {"marked": 1, "unread": 0}
    assert LiveEvent.objects.filter(user=cast.bob, read_at__isnull=True).count() == 2
    assert client.get("/live/events/read").status_code == 405


def test_workspace_header_includes_the_live_widget(cast, client):
    client.force_login(cast.alice)
    page = client.get("/").content.decode()
    assert 'id="live"' in page and "live/live.js" in page
