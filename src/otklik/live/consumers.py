"""The WebSocket every workspace tab keeps open to hear about its user's events.

Protocol (server → browser, JSON):
  {"type": "event", "event": {id, kind, case_id, text, payload, created_at}}
  {"type": "hello", "last_id": N, "unread": M}   once, after the catch-up
On connect with `?after=N` the stored events with id > N are sent first, in id order,
then live ones; an event is never sent twice on one connection (ids only grow).
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from otklik.live.selectors import live_events_after, live_last_id, live_unread_count
from otklik.live.services import event_message, user_group

CATCH_UP_PAGE = 100
CATCH_UP_MAX = 1000
CLOSE_UNAUTHENTICATED = 4401


def _catch_up(user, after: int) -> list[dict]:
    messages: list[dict] = []
    while len(messages) < CATCH_UP_MAX:
        page = live_events_after(user=user, after=after, limit=CATCH_UP_PAGE)
        messages.extend(event_message(e) for e in page)
        if len(page) < CATCH_UP_PAGE:
            break
        after = page[-1].pk
    return messages


def _hello(user) -> dict:
    return {
        "type": "hello",
        "last_id": live_last_id(user=user),
        "unread": live_unread_count(user=user),
    }


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.last_sent = 0
        self.group = user_group(user.pk)
        # Join first, then read the backlog: an event committed in between arrives both
        # ways and the id check in `_send_event` drops the second copy.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        after = _parse_after(self.scope.get("query_string", b""))
        if after is not None:
            self.last_sent = after
            for event in await database_sync_to_async(_catch_up)(user, after):
                await self._send_event(event)
        # Without `after` a fresh tab starts at the newest stored event (history is not
        # replayed); the hello tells it where that is and how many are unread.
        await self.send_json(await database_sync_to_async(_hello)(user))

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """The browser only listens; it may send {"type": "ping"}."""
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def live_event(self, message):
        await self._send_event(message["event"])

    async def _send_event(self, event: dict) -> None:
        if event["id"] <= self.last_sent:
            return
        self.last_sent = event["id"]
        await self.send_json({"type": "event", "event": event})


def _parse_after(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("after")
    if not values:
        return None
    try:
        return max(int(values[0]), 0)
    except ValueError:
        return None
