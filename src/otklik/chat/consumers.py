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

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError
from django.http import Http404

from otklik.chat import services
from otklik.chat.models import Conversation
from otklik.chat.origins import header, is_own_origin
from otklik.chat.selectors import (
    conversation_for_visitor,
    conversation_get_for_user,
    conversation_state,
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
        await self.accept()

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
        token = content.get("token")
        if token:
            conversation = await database_sync_to_async(conversation_for_visitor)(
                conversation_id=self.conversation_id, token=str(token)
            )
            if conversation is None:
                await self.close(code=CLOSE_NOT_FOUND)
                return
            self.side = "visitor"
        else:
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
                conversation = await database_sync_to_async(conversation_get_for_user)(
                    user=user, conversation_id=self.conversation_id
                )
            except Http404:
                await self.close(code=CLOSE_NOT_FOUND)
                return
            self.side, self.user = "staff", user
        try:
            after = max(int(content.get("after_seq") or 0), 0)
        except (TypeError, ValueError):
            after = 0
        self.cursor = after
        self.group = services.group_name(self.conversation_id)
        # Join first, then read the backlog: a message committed in between arrives both
        # ways and the cursor drops the second copy.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._catch_up(None)
        state = await database_sync_to_async(self._state)()
        await self.send_json({"type": "ready", "conversation": state})

    def _state(self) -> dict:
        conversation = Conversation.objects.select_related("operator").get(pk=self.conversation_id)
        return conversation_state(conversation)

    async def _conversation(self) -> Conversation:
        return await database_sync_to_async(
            Conversation.objects.select_related("operator", "case", "client").get
        )(pk=self.conversation_id)

    async def _call(self, ref: str, func, **kwargs):
        """Run a service; a refusal goes back to the browser with the message's client id."""
        try:
            return await database_sync_to_async(func)(**kwargs)
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "client_msg_id": ref, "message": _error_text(exc)}
            )
            return None

    def _post(self, body: str, client_msg_id: str, internal: bool):
        """One trip to the database per message: fetch the chat and post to it."""
        conversation = Conversation.objects.select_related("case", "interaction").get(
            pk=self.conversation_id
        )
        if self.side == "visitor":
            return services.visitor_post(
                conversation=conversation, body=body, client_msg_id=client_msg_id
            )
        return services.staff_post(
            actor=self.user,
            conversation=conversation,
            body=body,
            client_msg_id=client_msg_id,
            internal=internal,
        )

    async def _message(self, content: dict) -> None:
        client_msg_id = str(content.get("client_msg_id") or "")[:64]
        try:
            # Not thread-sensitive: messages of different chats are stored in parallel
            # (each worker thread has its own database connection).
            message, created = await database_sync_to_async(self._post, thread_sensitive=False)(
                str(content.get("body") or ""), client_msg_id, bool(content.get("internal"))
            )
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "client_msg_id": client_msg_id, "message": _error_text(exc)}
            )
            return
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
        conversation = await self._conversation()
        await database_sync_to_async(services.mark_read)(
            conversation=conversation, side=self.side, seq=seq
        )

    async def _feedback(self, content: dict) -> None:
        if self.side != "visitor":
            return
        conversation = await self._conversation()
        try:
            decision_id = int(content.get("decision"))
        except (TypeError, ValueError):
            return
        await self._call(
            "",
            services.bot_feedback,
            conversation=conversation,
            decision_id=decision_id,
            helpful=bool(content.get("helpful")),
        )

    async def _close(self, content: dict) -> None:
        conversation = await self._conversation()
        await self._call(
            "",
            services.chat_close,
            conversation=conversation,
            actor=self.user if self.side == "staff" else None,
        )

    async def _rate(self, content: dict) -> None:
        if self.side != "visitor":
            return
        conversation = await self._conversation()
        try:
            score = int(content.get("score"))
        except (TypeError, ValueError):
            score = 0
        rating = await self._call(
            "",
            services.chat_rate,
            conversation=conversation,
            score=score,
            comment=str(content.get("comment") or ""),
        )
        if rating is not None:
            await self.send_json({"type": "rated", "score": rating.score})

    # --- channel layer → browser --------------------------------------------------------

    async def _catch_up(self, up_to: int | None) -> None:
        """Send every stored message after the cursor (up to `up_to`), in order."""
        while True:
            page = await database_sync_to_async(messages_after)(
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
