"""Reading live events: always the requesting user's own, always by id."""

from otklik.live.models import LiveEvent

MAX_PAGE = 200


def live_events_after(*, user, after: int, limit: int = 100) -> list[LiveEvent]:
    """The user's events with id > `after`, oldest first (catch-up after a reconnect)."""
    limit = max(1, min(limit, MAX_PAGE))
    return list(LiveEvent.objects.filter(user=user, pk__gt=after).order_by("pk")[:limit])


def live_last_id(*, user) -> int:
    """Id of the user's newest event, 0 if none: where a fresh tab starts listening."""
    return (
        LiveEvent.objects.filter(user=user).order_by("-pk").values_list("pk", flat=True).first()
        or 0
    )


def live_unread_count(*, user) -> int:
    return LiveEvent.objects.filter(user=user, read_at__isnull=True).count()
