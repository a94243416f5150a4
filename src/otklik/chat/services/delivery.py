"""Live delivery of chat events to the conversation's Channels group, only after commit.

A receiver that missed something asks for "after seq N", so a lost push loses nothing.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from otklik.chat.models import (
    ChatMessage,
    Conversation,
    ConversationStatus,
    SenderKind,
)
from otklik.chat.selectors import message_json

MAX_BODY = 4000
MAX_CLIENT_MSG_ID = 64
_CLIENT_MSG_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
STAFF_KINDS = (SenderKind.OPERATOR, SenderKind.SPECIALIST)
ACTIVE = (ConversationStatus.ASSIGNED,)


def group_name(conversation_id: int) -> str:
    """The Channels group every open socket of this conversation listens to."""
    return f"chat.{conversation_id}"


def _side(sender_kind: str) -> str:
    return "visitor" if sender_kind == SenderKind.VISITOR else "staff"


# --- delivery ---------------------------------------------------------------------------


_deferred: ContextVar[list[tuple[str, dict]] | None] = ContextVar("chat_deferred", default=None)


@contextmanager
def deferred_delivery() -> Iterator[list[tuple[str, dict]]]:
    """Collect the block's live sends as (group, event) instead of sending them.

    For callers that live on the event loop (the chat socket): they send the collected
    events with `await` afterwards, so the database thread never blocks on the loop.
    """
    pending: list[tuple[str, dict]] = []
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)


def _send(conversation_id: int, event: dict) -> None:
    pending = _deferred.get()
    if pending is not None:
        pending.append((group_name(conversation_id), event))
        return
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group_name(conversation_id), event)


def _push_message(message: ChatMessage) -> None:
    data = message_json(message)
    transaction.on_commit(
        lambda: _send(message.conversation_id, {"type": "chat.message", "message": data})
    )


def _push_status(conversation: Conversation) -> None:
    data = {
        "status": conversation.status,
        "operator": conversation.operator.display_name if conversation.operator else "",
    }
    transaction.on_commit(
        lambda: _send(conversation.pk, {"type": "chat.status", "conversation": data})
    )


def push_typing(*, conversation_id: int, side: str, name: str, channel_name: str = "") -> None:
    """Typing is not stored: it matters only to whoever is connected right now."""
    _send(
        conversation_id,
        {"type": "chat.typing", "side": side, "name": name, "sender_channel": channel_name},
    )
