"""HTTP side of presence: one's own drafts, and what is new on a case page since it opened.

Presence itself travels over the socket (consumers.py); these views serve what the page
fetches when told that something changed, and the drafts it saves as the user types.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from otklik.cases.freshness import case_seen_marker
from otklik.cases.models import CaseEvent, EventKind
from otklik.cases.selectors import case_get_for_user, case_get_viewed, case_timeline
from otklik.common.errors import ServiceError
from otklik.common.web import int_or_none, service_errors
from otklik.presence.selectors import drafts_for
from otklik.presence.services import draft_save

VIA = "workspace-live"
#: Event kinds summed up in the "new since you opened the page" strip.
STRIP_KINDS = (
    EventKind.MESSAGE_ADDED,
    EventKind.STATUS_CHANGED,
    EventKind.REOPENED,
    EventKind.FIELD_CHANGED,
)


@login_required
@require_http_methods(["GET", "POST"])
def drafts(request: HttpRequest, case_id: int) -> JsonResponse:
    """GET: the caller's drafts on the case. POST kind, body[, visibility]: save one
    (an empty body deletes it). Never anyone else's drafts."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    if request.method == "POST":
        try:
            draft_save(
                user=request.user,
                case=case,
                kind=request.POST.get("kind", ""),
                body=request.POST.get("body", ""),
                visibility=request.POST.get("visibility", ""),
            )
        except ServiceError as exc:
            return JsonResponse({"errors": service_errors(exc)}, status=422)
    return JsonResponse(
        {
            "drafts": [
                {
                    "kind": d.kind,
                    "body": d.body,
                    "visibility": d.visibility,
                    "updated_at": d.updated_at.isoformat(),
                }
                for d in drafts_for(user=request.user, case=case)
            ]
        }
    )


@login_required
@require_GET
def case_live(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case page's timeline, status badge and "new since you opened it" strip, for
    the page to swap in when its socket says the case changed. `opened` is the newest
    event id the page was rendered with."""
    case = case_get_viewed(request=request, case_id=case_id, via=VIA)
    opened = max(int_or_none(request.GET.get("opened")) or 0, 0)
    news = list(
        CaseEvent.objects.filter(case=case, pk__gt=opened, kind__in=STRIP_KINDS)
        .exclude(actor=request.user)
        .select_related("actor")
        .order_by("pk")
    )
    context = {
        "case": case,
        "client": case.client,
        "timeline": case_timeline(case=case),
        "now": timezone.now(),
        "opened": opened,
        "marker": case_seen_marker(case=case),
        "news_messages": sum(1 for e in news if e.kind == EventKind.MESSAGE_ADDED),
        "news_public": sum(
            1 for e in news if e.kind == EventKind.MESSAGE_ADDED and e.new_value == "public"
        ),
        "news_status": [
            e for e in news if e.kind in (EventKind.STATUS_CHANGED, EventKind.REOPENED)
        ],
        "news_owner": [e for e in news if e.kind == EventKind.FIELD_CHANGED and e.field == "owner"],
    }
    return render(request, "presence/_case_live.html", context)
