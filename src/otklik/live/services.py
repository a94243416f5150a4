"""Publishing live events to staff: stored first, pushed after commit."""

from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from otklik.live.models import LiveEvent
from otklik.notifications.services import notify


def user_group(user_id: int) -> str:
    """The Channels group every open workspace tab of this user listens to."""
    return f"user.{user_id}"


def publish(
    *, user_ids: Iterable[int], kind: str, text: str, case=None, payload: dict | None = None
) -> list[LiveEvent]:
    """Store an event per recipient and push it to their open tabs after the commit."""
    now = timezone.now()
    events = LiveEvent.objects.bulk_create(
        [
            LiveEvent(
                user_id=uid,
                kind=kind,
                case=case,
                text=text[:500],
                payload=payload or {},
                created_at=now,
            )
            for uid in dict.fromkeys(u for u in user_ids if u)
        ]
    )
    transaction.on_commit(lambda: _push([e.pk for e in events]))
    return events


def staff_tell(*, users: list, kind: str, text: str, url: str, key: str) -> None:
    """Tell members of staff: a live event on their open tabs and, to those with an address,
    the same text by e-mail, both linking to `url`. `key` names each e-mail in the outbox
    (a second call with the same key sends nothing more); "{user}" in it is the recipient's id.
    """
    publish(user_ids=[u.pk for u in users], kind=kind, text=text, payload={"url": url})
    for user in users:
        if user.email:
            notify(
                key=key.format(user=user.pk),
                channel="email",
                address=user.email,
                subject=text,
                body=text,
                user=user,
                payload={"url": url},
            )


def event_message(event: LiveEvent) -> dict:
    return {
        "id": event.pk,
        "kind": event.kind,
        "case_id": event.case_id,
        "text": event.text,
        "payload": event.payload,
        "created_at": event.created_at.isoformat(),
    }


def _push(event_ids: list[int]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for event in LiveEvent.objects.filter(pk__in=event_ids):
        async_to_sync(layer.group_send)(
            user_group(event.user_id), {"type": "live.event", "event": event_message(event)}
        )


def live_mark_read(*, user, up_to: int | None = None, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own events read: all up to id `up_to`, or the given ids."""
    events = LiveEvent.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        events = events.filter(pk__in=list(ids))
    elif up_to is not None:
        events = events.filter(pk__lte=up_to)
    return events.update(read_at=timezone.now())
