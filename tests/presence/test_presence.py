"""Presence: entries expire without heartbeats, sockets see each other, a closed or silent
tab leaves, only people who may see the case may join; drafts and the live case page."""

import asyncio
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import connections
from django.urls import reverse

from otklik.cases.freshness import case_seen_marker
from otklik.cases.services import case_transition, interaction_register, message_add
from otklik.handoffs.selectors import client_live_channel
from otklik.presence import consumers, store
from otklik.presence.models import Draft, DraftKind
from otklik.presence.routing import websocket_urlpatterns
from otklik.presence.selectors import presence_people, user_present
from otklik.presence.services import presence_leave, presence_touch
from otklik.presence.store import MemoryPresenceStore, RedisPresenceStore, get_store
from tests.factories import make_case


@pytest.fixture(autouse=True)
def _no_persistent_connections():
    config = connections.settings["default"]
    saved = config.get("CONN_MAX_AGE", 0)
    config["CONN_MAX_AGE"] = 0
    yield
    config["CONN_MAX_AGE"] = saved


@pytest.fixture(autouse=True)
def _isolated_channel_layer(settings):
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


def _stores():
    yield MemoryPresenceStore()
    if django_settings.REDIS_URL:
        yield RedisPresenceStore(django_settings.REDIS_URL, f"t-pres:{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_an_entry_lives_only_as_long_as_its_heartbeats(backend):
    if backend == "redis" and not django_settings.REDIS_URL:
        pytest.skip("REDIS_URL not set")
    s = (
        MemoryPresenceStore()
        if backend == "memory"
        else RedisPresenceStore(django_settings.REDIS_URL, f"t-pres:{uuid.uuid4().hex[:8]}")
    )
    s.touch("case:1", "7:a", {"user": 7}, ttl=0.4)
    s.touch("case:1", "8:b", {"user": 8}, ttl=5)
    assert set(s.members("case:1")) == {"7:a", "8:b"}
    time.sleep(0.5)
    assert set(s.members("case:1")) == {"8:b"}  # no heartbeat: gone, nobody had to notice
    s.leave("case:1", "8:b")
    assert s.members("case:1") == {}
    s.clear()


@pytest.mark.django_db
def test_people_are_listed_once_with_typing_that_runs_out(cast, monkeypatch):
    info = presence_touch(scope="case:5", tab="t1", user=cast.alice, typing="reply")
    presence_touch(scope="case:5", tab="t2", user=cast.alice)
    presence_touch(scope="case:5", tab="t3", user=cast.olga)
    people = presence_people(scope="case:5")
    assert [(p["user"], p["typing"]) for p in people] == [
        (cast.alice.pk, "reply"),
        (cast.olga.pk, ""),
    ]
    later = info["typing_until"] + 0.1
    assert presence_people(scope="case:5", now=later)[0]["typing"] == ""
    assert user_present(user_id=cast.olga.pk, scopes=["client:1", "case:5"])
    presence_leave(scope="case:5", tab="t3", user_id=cast.olga.pk)
    assert not user_present(user_id=cast.olga.pk, scopes=["case:5"])


def _communicator(user, kind, object_id, query=""):
    app = URLRouter(websocket_urlpatterns)
    communicator = WebsocketCommunicator(app, f"/ws/presence/{kind}/{object_id}/{query}")
    communicator.scope["user"] = user
    return communicator


async def _until(communicator, predicate, timeout=8.0):
    """Messages until one matches (answering heartbeats on the way, as a browser does)."""
    deadline = asyncio.get_event_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_event_loop().time()
        assert left > 0, "no matching message in time"
        message = await communicator.receive_json_from(timeout=left)
        if message["type"] == "beat":
            await communicator.send_json_to({"type": "beat"})
        if predicate(message):
            return message


def _names(message):
    return sorted(p["user"] for p in message["people"])


@pytest.mark.django_db(transaction=True)
def test_two_staff_on_one_case_see_each_other_typing_and_leaving(cast, monkeypatch):
    monkeypatch.setattr(consumers, "HEARTBEAT", 0.2)
    monkeypatch.setattr(store, "TTL", 0.8)
    monkeypatch.setattr("otklik.presence.services.TTL", 0.8)
    case = make_case(actor=cast.alice)

    async def scenario():
        alice = _communicator(cast.alice, "case", case.pk, "?tab=a")
        olga = _communicator(cast.olga, "case", case.pk, "?tab=o")
        assert (await alice.connect())[0]
        assert (await olga.connect())[0]
        both = sorted([cast.alice.pk, cast.olga.pk])
        await _until(alice, lambda m: m["type"] == "people" and _names(m) == both)
        await _until(olga, lambda m: m["type"] == "people" and _names(m) == both)

        await olga.send_json_to({"type": "typing", "what": "reply"})
        await _until(
            alice,
            lambda m: (
                m["type"] == "people"
                and any(p["user"] == cast.olga.pk and p["typing"] == "reply" for p in m["people"])
            ),
        )

        # A case event reaches the open page as an id.
        event = await database_sync_to_async(_reply)(cast.alice, case)
        await _until(olga, lambda m: m["type"] == "case" and m["event"] == event)

        # Olga's network is gone: her socket stays open but answers nothing. Her entry
        # expires and Alice's list loses her, with no disconnect at all.
        started = time.monotonic()
        await _until(alice, lambda m: m["type"] == "people" and _names(m) == [cast.alice.pk])
        assert time.monotonic() - started < 3
        await olga.disconnect()

        # A closed tab leaves at once.
        olga2 = _communicator(cast.olga, "case", case.pk, "?tab=o2")
        assert (await olga2.connect())[0]
        await _until(alice, lambda m: m["type"] == "people" and _names(m) == both)
        await olga2.disconnect()
        await _until(alice, lambda m: m["type"] == "people" and _names(m) == [cast.alice.pk])
        await alice.disconnect()

    asyncio.run(scenario())


def _reply(user, case):
    message_add(actor=user, case=case, body="Ответ", visibility="public")
    return case_seen_marker(case=case)


@pytest.mark.django_db(transaction=True)
def test_only_people_who_may_see_the_case_may_join(cast):
    case = make_case(actor=cast.alice)

    async def scenario():
        outsider = _communicator(cast.bob, "case", case.pk)  # team B, not his case
        connected, code = await outsider.connect()
        assert not connected and code == consumers.CLOSE_FORBIDDEN
        card = _communicator(cast.sam, "client", case.client_id)  # specialist, no handoff
        connected, code = await card.connect()
        assert not connected and code == consumers.CLOSE_FORBIDDEN
        anonymous = _communicator(None, "case", case.pk)
        connected, code = await anonymous.connect()
        assert not connected and code == consumers.CLOSE_UNAUTHENTICATED

    asyncio.run(scenario())
    assert get_store().members(f"case:{case.pk}") == {}


@pytest.mark.django_db(transaction=True)
def test_a_reconnecting_page_is_told_what_it_missed(cast):
    case = make_case(actor=cast.alice)
    seen = case_seen_marker(case=case)
    marker = _reply(cast.olga, case)

    async def scenario():
        alice = _communicator(cast.alice, "case", case.pk, f"?tab=a&seen={seen}")
        assert (await alice.connect())[0]
        message = await _until(alice, lambda m: m["type"] == "case")
        assert message["event"] == marker
        await alice.disconnect()

    asyncio.run(scenario())


@pytest.mark.django_db
def test_drafts_are_kept_per_user_and_case_and_private(cast, client):
    case = make_case(actor=cast.alice)
    url = reverse("presence:drafts", args=[case.pk])
    client.force_login(cast.alice)
    saved = client.post(url, {"kind": "message", "body": "Черновик", "visibility": "public"})
    assert saved.status_code == 200
    assert saved.json()["drafts"][0]["body"] == "Черновик"
    client.post(url, {"kind": "message", "body": "Черновик 2", "visibility": "public"})
    assert Draft.objects.get(user=cast.alice, case=case).body == "Черновик 2"
    assert client.post(url, {"kind": "bogus", "body": "x"}).status_code == 422

    client.force_login(cast.olga)  # same team: sees the case, not Alice's draft
    assert client.get(url).json() == {"drafts": []}
    client.force_login(cast.bob)  # another team: no case at all
    assert client.get(url).status_code == 404

    client.force_login(cast.alice)
    client.post(url, {"kind": "message", "body": "   "})
    assert not Draft.objects.filter(user=cast.alice, kind=DraftKind.MESSAGE).exists()


@pytest.mark.django_db
def test_the_live_fragment_marks_what_others_changed_since_opening(cast, client):
    case = make_case(actor=cast.alice)
    opened = case_seen_marker(case=case)
    message_add(actor=cast.olga, case=case, body="Коллега ответила", visibility="public")
    case_transition(actor=cast.olga, case=case, to_status="waiting_client")
    client.force_login(cast.alice)
    html = client.get(
        reverse("presence:case_live", args=[case.pk]), {"opened": opened}
    ).content.decode()
    assert "Коллега ответила" in html
    assert 'id="case-status"' in html
    strip = html[html.index('id="presence-live-strip"') :]
    assert " hidden" not in strip[: strip.index(">")]  # shown: there is news
    assert "data-event=" in html


@pytest.mark.django_db
def test_the_clients_call_is_now_only_while_its_operator_is_here(cast):
    case = make_case(actor=cast.alice)
    interaction_register(actor=cast.alice, client=case.client, channel="phone", case=case)
    assert client_live_channel(client=case.client) is None  # nobody has it open
    presence_touch(scope=f"case:{case.pk}", tab="t", user=cast.alice)
    live = client_live_channel(client=case.client)
    assert live is not None and live.operator_id == cast.alice.pk
    presence_leave(scope=f"case:{case.pk}", tab="t", user_id=cast.alice.pk)
    assert client_live_channel(client=case.client) is None
