"""Rate limits of the anonymous chat widget: chat starts per address, messages per chat.

Counted in the shared throttle store (all web and websocket processes see one count), so
a script cannot open hundreds of chats or pour a hundred messages into one and have each
stored, answered by the bot and queued to operators. A refusal says when to try again;
the widget shows it under the message box.
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError
from otklik.common.throttle import AttemptCounter, retry_message

START_WINDOW_SECONDS = 10 * 60
MESSAGE_WINDOW_SECONDS = 60

_starts = AttemptCounter(
    prefix="chat:starts", namespace="otklik-chat", window_seconds=START_WINDOW_SECONDS
)
_messages = AttemptCounter(
    prefix="chat:messages", namespace="otklik-chat", window_seconds=MESSAGE_WINDOW_SECONDS
)


class ChatThrottled(ServiceError):
    """Too many chats from this address or messages in this chat; `retry_at` says when."""

    def __init__(self, message, *, retry_at: datetime):
        super().__init__(message)
        self.retry_at = retry_at


def chat_start_allow(*, ip: str, now: datetime | None = None) -> None:
    """Count a new chat from this address; ChatThrottled over OTKLIK_CHAT_STARTS_PER_ADDRESS."""
    now = now or timezone.now()
    verdict = _starts.check("ip", ip or "-", settings.OTKLIK_CHAT_STARTS_PER_ADDRESS, now=now)
    if not verdict.allowed:
        raise ChatThrottled(
            {
                "__all__": _("Too many new chats from your address.")
                + " "
                + retry_message(verdict.retry_at, now=now)
            },
            retry_at=verdict.retry_at,
        )


def visitor_message_allow(*, conversation_id: int, now: datetime | None = None) -> None:
    """Count a visitor's message; ChatThrottled over OTKLIK_CHAT_MESSAGES_PER_MINUTE."""
    now = now or timezone.now()
    verdict = _messages.check(
        "chat", str(conversation_id), settings.OTKLIK_CHAT_MESSAGES_PER_MINUTE, now=now
    )
    if not verdict.allowed:
        raise ChatThrottled(
            {
                "body": _("You are sending messages too often.")
                + " "
                + retry_message(verdict.retry_at, now=now)
            },
            retry_at=verdict.retry_at,
        )
