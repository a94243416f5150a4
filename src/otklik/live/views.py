"""HTTP fallback for live events: poll by id, mark read. JSON, own events only."""

import json

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from otklik.live.selectors import live_events_after, live_last_id, live_unread_count
from otklik.live.services import event_message, live_mark_read


def _int(value, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _unauthenticated() -> JsonResponse:
    return JsonResponse({"detail": _("Log in to receive notifications.")}, status=401)


@require_GET
def events(request: HttpRequest) -> JsonResponse:
    """GET /live/events?after=N&limit=M: the caller's events with id > N, oldest first."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    after = max(_int(request.GET.get("after"), 0) or 0, 0)
    limit = _int(request.GET.get("limit"), 100) or 100
    page = live_events_after(user=request.user, after=after, limit=limit)
    return JsonResponse(
        {
            "events": [event_message(e) for e in page],
            "last_id": live_last_id(user=request.user),
            "unread": live_unread_count(user=request.user),
        }
    )


@require_POST
def mark_read(request: HttpRequest) -> JsonResponse:
    """POST /live/events/read with `up_to=<id>` or `ids=[...]` (form or JSON)."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    data: dict = request.POST.dict()
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
    ids = data.get("ids")
    if isinstance(ids, list):
        marked = live_mark_read(user=request.user, ids=[i for i in map(_int, ids) if i])
    else:
        marked = live_mark_read(user=request.user, up_to=_int(data.get("up_to")))
    return JsonResponse({"marked": marked, "unread": live_unread_count(user=request.user)})
