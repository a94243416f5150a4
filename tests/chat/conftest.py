"""Chat fixtures: the knowledge base the bot answers from, an isolated channel layer."""

import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connections

from otklik.chat import services
from otklik.chat.models import ChatTopic, OperatorChatSettings
from otklik.knowledge.services import seed_procedures


@pytest.fixture
def kb(db):
    """The bundled procedures, published and indexed (the bot's client-facing answers)."""
    seed_procedures()


@pytest.fixture(autouse=True)
def _fresh_chat_limits(monkeypatch):
    """Widget limits count in the shared store (Redis in CI): a key space per test."""
    from otklik.chat import limits

    monkeypatch.setattr(limits._starts, "prefix", f"test-chat-starts:{uuid.uuid4().hex}")
    monkeypatch.setattr(limits._messages, "prefix", f"test-chat-messages:{uuid.uuid4().hex}")


@pytest.fixture(autouse=True)
def _isolated_channel_layer(settings):
    """In-memory layer by default; the configured Redis layer (with a private prefix) when
    REDIS_URL is set."""
    if django_settings.REDIS_URL:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": django_settings.CHANNEL_LAYERS["default"]["BACKEND"],
                "CONFIG": {
                    "hosts": [django_settings.REDIS_URL],
                    "prefix": f"otklik-test-{uuid.uuid4().hex[:8]}",
                },
            }
        }
    else:
        settings.CHANNEL_LAYERS = {
            "default": {"BACKEND": "otklik.chat.layers.InMemoryChannelLayer"}
        }


@pytest.fixture
def no_persistent_connections():
    """Consumers reach the database from a thread pool; close those connections after
    each call, or PostgreSQL's test database cannot be dropped at the end."""
    config = connections.settings["default"]
    saved = config.get("CONN_MAX_AGE", 0)
    config["CONN_MAX_AGE"] = 0
    yield
    config["CONN_MAX_AGE"] = saved


@pytest.fixture
def accepting(cast):
    """Alice and Bob take chats, two at a time."""
    for user in (cast.alice, cast.bob):
        OperatorChatSettings.objects.update_or_create(
            user=user, defaults={"capacity": 2, "accepting": True}
        )


@pytest.fixture
def security_topic(cast):
    return ChatTopic.objects.create(
        name="Блокировка за границей",
        keywords="за границ\nзаграниц",
        human_only=True,
    )


def start(**kwargs):
    conversation, token = services.conversation_start(**kwargs)
    return conversation, token
