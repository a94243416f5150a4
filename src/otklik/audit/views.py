"""The access review: who read a client's data and when, for supervisors and admins."""

import csv
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from otklik.audit.selectors import (
    AccessFilters,
    access_log_page,
    access_review_client,
    access_review_staff,
    action_label,
)
from otklik.audit.services import access_log_export
from otklik.common.web import int_or_none


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _filters(get: QueryDict) -> AccessFilters:
    """Filters from the query string; a malformed value is ignored rather than an error page."""
    return AccessFilters(
        client_id=int_or_none(get.get("client")),
        actor_id=int_or_none(get.get("actor")),
        since=_day(get.get("since")),
        until=_day(get.get("until")),
    )


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def access_review(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    page = max(int_or_none(request.GET.get("page")) or 1, 1)
    rows, has_next = access_log_page(user=request.user, filters=filters, page=page)
    client = None
    if filters.client_id is not None:
        client = access_review_client(user=request.user, client_id=filters.client_id)
    context = {
        "filters": filters,
        "records": [(r, action_label(r.action)) for r in rows],
        "staff": access_review_staff(),
        "client": client,
        "page": page,
        "has_next": has_next,
        "has_prev": page > 1,
    }
    return render(request, "audit/access_review.html", context)


@login_required
@require_GET
def access_review_export(request: HttpRequest) -> StreamingHttpResponse:
    """The same filters as the page, all matching rows as CSV (UTF-8 with BOM for Excel)."""
    filters = _filters(request.GET)
    rows = access_log_export(user=request.user, filters=filters, request=request)
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        for row in rows:
            yield writer.writerow(row)

    name = f"access-log-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
