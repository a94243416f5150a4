"""The socket an open case page or client card keeps for presence and live changes.

Protocol (JSON). Server → browser:
  {"type": "people", "people": [{user, name, since, typing}]}  whenever the list changes
  {"type": "beat"}                    every HEARTBEAT s; the browser answers with a beat
  {"type": "case", "event": N}        the case got event N (case pages only)
Browser → server:
  {"type": "beat"}                    "this tab is still here": refreshes its entry
  {"type": "typing", "what": "reply"|"note"|"answer"|""}

The entry is refreshed only by the browser's answers, never by the server's own timer,
so a tab whose network is gone (the socket looks open to the server for minutes) drops
out by expiry within TTL + HEARTBEAT seconds, like a closed one.
"""

import asyncio
import uuid
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from otklik.presence.selectors import presence_people
from otklik.presence.services import presence_leave, presence_scope, presence_touch
from otklik.presence.signals import case_group
from otklik.presence.store import HEARTBEAT

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
KINDS = ("case", "client")


def _authorise(user, kind: str, object_id: int) -> int | None:
    """None if the user may not see the object; for a case, its newest event id."""
    from otklik.cases.freshness import case_seen_marker
    from otklik.cases.selectors import case_get_for_user
    from otklik.clients.selectors import client_get_for_user

    try:
        if kind == "case":
            return case_seen_marker(case=case_get_for_user(user=user, case_id=object_id))
        client_get_for_user(user=user, client_id=object_id)
        return 0
    except Http404:
        return None


class PresenceConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        kwargs = self.scope["url_route"]["kwargs"]
        kind, object_id = kwargs["kind"], int(kwargs["object_id"])
        if kind not in KINDS:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        marker = await database_sync_to_async(_authorise)(user, kind, object_id)
        if marker is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.user = user
        self.tab = (query.get("tab") or [""])[0][:40] or uuid.uuid4().hex
        self.place = presence_scope(kind, object_id)
        self.group = case_group(object_id) if kind == "case" else f"presence.client.{object_id}"
        self.info: dict = {}
        self.sent: list | None = None
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._touch(typing="")
        await self._announce()
        if kind == "case":
            seen = _int((query.get("seen") or ["0"])[0])
            if marker > seen:  # changed while this page was away (reconnect)
                await self.send_json({"type": "case", "event": marker})
        self.ticker = asyncio.create_task(self._tick())

    async def disconnect(self, code):
        ticker = getattr(self, "ticker", None)
        if ticker is not None:
            ticker.cancel()
        if getattr(self, "group", None):
            await sync_to_async(presence_leave, thread_sensitive=False)(
                scope=self.place, tab=self.tab, user_id=self.user.pk
            )
            await self._announce()
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "beat":
            await self._touch()
        elif kind == "typing":
            what = content.get("what")
            was = self.info.get("typing", "")
            await self._touch(typing=what if isinstance(what, str) else "")
            if self.info.get("typing", "") != was:
                await self._announce()

    async def _touch(self, typing: str | None = None) -> None:
        self.info = await sync_to_async(presence_touch, thread_sensitive=False)(
            scope=self.place, tab=self.tab, user=self.user, typing=typing, previous=self.info
        )

    async def _announce(self) -> None:
        """Tell every open page of this place to re-read the list (across processes)."""
        await self.channel_layer.group_send(self.group, {"type": "presence.changed"})

    async def _send_people(self) -> None:
        people = await sync_to_async(presence_people, thread_sensitive=False)(scope=self.place)
        if people != self.sent:
            self.sent = people
            await self.send_json({"type": "people", "people": people})

    async def _tick(self) -> None:
        """Ask the browser for a heartbeat and re-read the list (entries expire silently)."""
        try:
            while True:
                await self._send_people()
                await self.send_json({"type": "beat"})
                await asyncio.sleep(HEARTBEAT)
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket is gone; disconnect() cleans up
            return

    async def presence_changed(self, message):
        await self._send_people()

    async def case_changed(self, message):
        await self.send_json({"type": "case", "event": message.get("event", 0)})


def _int(raw: str) -> int:
    try:
        return max(int(raw), 0)
    except ValueError:
        return 0
