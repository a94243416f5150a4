"""One middleware for every request: request id, the JSON access line, latency metrics."""

import logging
import time

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from otklik.common.request_context import new_request_id, request_id_var, user_id_var
from otklik.ops.metrics import observe_request

logger = logging.getLogger("otklik.request")

# Probes and scrapes every few seconds would drown the access log; they are still timed.
QUIET_VIEWS = {"ops:live", "ops:ready", "ops:metrics"}


class RequestContextMiddleware:
    """Gives the request an id (X-Request-ID in and out), logs and times it by view.

    Placed first, so the time covers the other middleware. The user is read only if the
    request already loaded it (no extra session lookup for anonymous static files), and
    logged by id only. The view is Django's view name and the route its URL pattern: the
    path itself can carry identifiers and is not logged.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = request_id
            return response
        finally:
            seconds = time.perf_counter() - started
            view, route = _view_of(request)
            user_id = _user_id(request)
            observe_request(view=view, method=request.method or "", status=status, seconds=seconds)
            if view not in QUIET_VIEWS:
                logger.info(
                    "%s %s %s",
                    request.method,
                    view,
                    status,
                    extra={
                        "view": view,
                        "route": route,
                        "method": request.method,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "user_id": user_id,
                    },
                )
            user_id_var.reset(user_token)
            request_id_var.reset(token)


def _view_of(request: HttpRequest) -> tuple[str, str]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        if request.path_info.startswith("/static/"):
            return "static", "static/"
        return "unresolved", ""
    name = match.view_name or getattr(match, "_func_path", "") or "unnamed"
    return name, match.route or ""


def _user_id(request: HttpRequest) -> int | None:
    user = request.__dict__.get("user")
    if user is None:
        return None
    if getattr(user, "_wrapped", None) is empty:  # not loaded by the view: do not load it
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None
