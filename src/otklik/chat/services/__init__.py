"""Writes on chats: messages (numbered, deduplicated), the bot, the queue, the close.

Every chat is mirrored to a case from the hand-off on: an Interaction on the chat channel
(ended when the chat closes) and a public Message per chat message, so the transcript stays
on the case. Live delivery happens only after commit (`delivery`), to the conversation's
Channels group; a receiver that missed something asks for "after seq N".

The package is split by stage; every public name is re-exported here so callers keep
importing `from otklik.chat import services`:

- `delivery`: limits and live delivery to the Channels group;
- `messages`: starting and identifying a chat, visitor and staff messages;
- `routing`: hand-off, the case behind the chat, routing to an operator;
- `bot_turns`: the bot's answers and the client's feedback on them;
- `staff_actions`: take, transfer, invite, join, close, rate, mark read.
"""

from .bot_turns import (
    bot_feedback,
    bot_respond,
)
from .delivery import (
    ACTIVE,
    MAX_BODY,
    MAX_CLIENT_MSG_ID,
    STAFF_KINDS,
    deferred_delivery,
    group_name,
    push_typing,
)
from .messages import (
    conversation_identify,
    conversation_start,
    conversation_start_or_resume,
    staff_post,
    visitor_post,
)
from .routing import (
    active_load,
    handoff,
    route,
    route_waiting,
    settings_for,
)
from .staff_actions import (
    chat_close,
    chat_invite,
    chat_rate,
    chat_take,
    chat_transfer,
    mark_read,
    operator_set_accepting,
    specialist_join,
)

__all__ = [
    "ACTIVE",
    "MAX_BODY",
    "MAX_CLIENT_MSG_ID",
    "STAFF_KINDS",
    "active_load",
    "bot_feedback",
    "bot_respond",
    "chat_close",
    "chat_invite",
    "chat_rate",
    "chat_take",
    "chat_transfer",
    "conversation_identify",
    "conversation_start",
    "conversation_start_or_resume",
    "deferred_delivery",
    "group_name",
    "handoff",
    "mark_read",
    "operator_set_accepting",
    "push_typing",
    "route",
    "route_waiting",
    "settings_for",
    "specialist_join",
    "staff_post",
    "visitor_post",
]
