"""The chat WebSocket, for the widget (visitor token) and the operator page (session).

Protocol (JSON frames). The first frame from the browser must be
  {"type": "hello", "after_seq": N, "token": "..."}      token only for visitors
The server answers with every message seq > N in order, then
  {"type": "ready", "conversation": {status, last_seq, ...}}
and afterwards pushes {"type": "message", "message": {...}} live. Each message is sent at
most once per connection and in seq order: a message whose predecessors have not arrived
through the channel layer yet triggers a read of the gap from the database first.

Browser → server after the hello:
  {"type": "message", "client_msg_id": "...", "body": "..."} → {"type": "ack", ...}
  {"type": "typing"} · {"type": "read", "seq": N} · {"type": "ping"}
  visitors also {"type": "feedback", "decision": id, "helpful": bool},
  {"type": "close"}, {"type": "rate", "score": 1..5, "comment": "..."}
"""

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError

from otklik.chat import db, services
from otklik.chat.models import Conversation
from otklik.chat.origins import header, is_own_origin
from otklik.chat.selectors import (
    chat_opening,
    conversation_refresh,
    message_json,
    messages_after,
)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CATCH_UP_PAGE = 500


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(str(m) for ms in exc.message_dict.values() for m in ms)
    return " ".join(str(m) for m in exc.messages)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.side = None  # "visitor" or "staff" once the hello is accepted
        self.user = None
        self.cursor = 0
        self.group = None
        self.conversation: Conversation | None = None  # since the hello; see _with_conversation
        await self.accept()

    async def dispatch(self, message):
        """Call the handler, without Channels' `aclose_old_connections` before each one.

        That is a hop to the shared sync thread for every frame and every live message
        (profiled as the largest cost left per delivery at 2 000 sockets); this consumer
        never uses that thread's connections: its database work runs in `chat.db`, which
        looks after its own.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message):
        """As Channels' own, without its `aclose_old_connections` (see `dispatch`)."""
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # --- browser → server ---------------------------------------------------------------

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if self.side is None:
            if kind == "hello":
                await self._hello(content)
            else:
                await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        handler = {
            "message": self._message,
            "typing": self._typing,
            "read": self._read,
            "feedback": self._feedback,
            "close": self._close,
            "rate": self._rate,
        }.get(kind)
        if handler is not None:
            await handler(content)

    async def _hello(self, content: dict) -> None:
        token = str(content.get("token") or "")
        user = None
        if not token:
            user = self.scope.get("user")
            # A staff session counts only on this server's own pages, never on a site that
            # embeds the widget (which would otherwise ride on the operator's cookies).
            if (
                user is None
                or not user.is_authenticated
                or not user.is_active
                or not is_own_origin(header(self.scope))
            ):
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
        try:
            after = max(int(content.get("after_seq") or 0), 0)
        except (TypeError, ValueError):
            after = 0
        group = services.group_name(self.conversation_id)
        # Join first, then read the backlog: a message committed in between arrives both
        # ways and the cursor drops the second copy. Live messages wait in the channel
        # until this handler returns, so none is sent ahead of the backlog.
        await self.channel_layer.group_add(group, self.channel_name)
        opening = await db.run(
            chat_opening,
            conversation_id=self.conversation_id,
            token=token,
            user=user,
            after_seq=after,
            limit=CATCH_UP_PAGE,
        )
        if opening is None:
            await self.channel_layer.group_discard(group, self.channel_name)
            await self.close(code=CLOSE_NOT_FOUND if token or user else CLOSE_UNAUTHENTICATED)
            return
        self.side, self.user, self.group, self.cursor = opening.side, user, group, after
        self.conversation = opening.conversation
        for message in opening.backlog:
            await self._deliver(message.seq, message.internal, message_json(message))
        if len(opening.backlog) == CATCH_UP_PAGE:
            await self._catch_up(None)
        await self.send_json({"type": "ready", "conversation": opening.state})

    def _with_conversation(self, func, **kwargs):
        """Call `func` with the chat kept since the hello, reloaded first: its status,
        operator or case may have changed since the last frame."""
        return func(conversation=conversation_refresh(self.conversation), **kwargs)

    async def _db(self, func, **kwargs):
        """One trip to the database: the service runs on a chat database thread, and what
        it pushes live is sent from here, after the commit, without blocking that thread."""

        def call():
            with services.deferred_delivery() as pending:
                result = self._with_conversation(func, **kwargs)
            return result, pending

        result, pending = await db.run(call)
        for group, event in pending:
            await self.channel_layer.group_send(group, event)
        return result

    async def _call(self, ref: str, func, **kwargs):
        """Run a service; a refusal goes back to the browser with the message's client id."""
        try:
            return await self._db(func, **kwargs)
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "client_msg_id": ref, "message": _error_text(exc)}
            )
            return None

    async def _message(self, content: dict) -> None:
        client_msg_id = str(content.get("client_msg_id") or "")[:64]
        body = str(content.get("body") or "")
        if self.side == "visitor":
            posted = await self._call(
                client_msg_id, services.visitor_post, body=body, client_msg_id=client_msg_id
            )
        else:
            posted = await self._call(
                client_msg_id,
                services.staff_post,
                actor=self.user,
                body=body,
                client_msg_id=client_msg_id,
                internal=bool(content.get("internal")),
            )
        if posted is None:
            return
        message, created = posted
        await self.send_json(
            {
                "type": "ack",
                "client_msg_id": client_msg_id,
                "id": message.pk,
                "seq": message.seq,
                "duplicate": not created,
            }
        )

    async def _typing(self, content: dict) -> None:
        name = self.user.display_name if self.user is not None else ""
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "chat.typing",
                "side": self.side,
                "name": name,
                "sender_channel": self.channel_name,
            },
        )

    async def _read(self, content: dict) -> None:
        try:
            seq = int(content.get("seq"))
        except (TypeError, ValueError):
            return
        await self._db(services.mark_read, side=self.side, seq=seq)

    async def _feedback(self, content: dict) -> None:
        if self.side != "visitor":
            return
        try:
            decision_id = int(content.get("decision"))
        except (TypeError, ValueError):
            return
        await self._call(
            "", services.bot_feedback, decision_id=decision_id, helpful=bool(content.get("helpful"))
        )

    async def _close(self, content: dict) -> None:
        await self._call("", services.chat_close, actor=self.user if self.side == "staff" else None)

    async def _rate(self, content: dict) -> None:
        if self.side != "visitor":
            return
        try:
            score = int(content.get("score"))
        except (TypeError, ValueError):
            score = 0
        rating = await self._call(
            "", services.chat_rate, score=score, comment=str(content.get("comment") or "")
        )
        if rating is not None:
            await self.send_json({"type": "rated", "score": rating.score})

    # --- channel layer → browser --------------------------------------------------------

    async def _catch_up(self, up_to: int | None) -> None:
        """Send every stored message after the cursor (up to `up_to`), in order."""
        while True:
            page = await db.run(
                messages_after,
                conversation_id=self.conversation_id,
                after_seq=self.cursor,
                staff=True,
                limit=CATCH_UP_PAGE,
            )
            for message in page:
                if up_to is not None and message.seq > up_to:
                    return
                await self._deliver(message.seq, message.internal, message_json(message))
            if len(page) < CATCH_UP_PAGE:
                return

    async def _deliver(self, seq: int, internal: bool, data: dict) -> None:
        if seq <= self.cursor:
            return
        self.cursor = seq
        if internal and self.side != "staff":
            return
        await self.send_json({"type": "message", "message": data})

    async def chat_message(self, event):
        if self.side is None:
            return
        data = event["message"]
        seq = data["seq"]
        if seq <= self.cursor:
            return
        if seq > self.cursor + 1:
            await self._catch_up(seq - 1)
        await self._deliver(seq, data.get("internal", False), data)

    async def chat_status(self, event):
        if self.side is not None:
            await self.send_json({"type": "status", "conversation": event["conversation"]})

    async def chat_typing(self, event):
        if (
            self.side is not None
            and event.get("sender_channel") != self.channel_name
            and (event["side"] != self.side or self.side == "staff")
        ):
            await self.send_json(
                {"type": "typing", "side": event["side"], "name": event.get("name", "")}
            )

    async def chat_read(self, event):
        if self.side is not None:
            await self.send_json({"type": "read", "side": event["side"], "seq": event["seq"]})
