"""The configured cache and channel layer work for real (local memory, or Redis in CI)."""

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache


def test_cache_round_trip():
    key = f"otklik-test-{uuid.uuid4()}"
    cache.set(key, {"ok": 1}, 30)
    assert cache.get(key) == {"ok": 1}
    cache.delete(key)
    assert cache.get(key) is None


def test_channel_layer_delivers_to_a_group():
    layer = get_channel_layer()
    group = f"otklik-test-{uuid.uuid4().hex}"

    async def exchange():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "case.updated", "case_id": 7})
        message = await layer.receive(channel)
        await layer.group_discard(group, channel)
        return message

    assert async_to_sync(exchange)() == {"type": "case.updated", "case_id": 7}


def test_backend_matches_environment():
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    expected = "RedisChannelLayer" if settings.REDIS_URL else "InMemoryChannelLayer"
    assert backend.endswith(expected)
