"""Error pages in the app's own layout and language (not Django's bare English pages).

The portal's clients see the personal cabinet's layout; staff see the workspace's. The 500
page renders without the database (the failure may be the database), from a static layout.
"""

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

from otklik.common.web import is_htmx

PORTAL_PREFIXES = ("/portal/", "/orders/portal/", "/chat/portal", "/faq/")


def _messages(status: int) -> tuple[str, str]:
    return {
        400: (
            _("The request could not be processed"),
            _(
                "It was malformed or too large (a text of several megabytes, a file over the "
                "limit). Shorten it and send it again; nothing has been saved yet."
            ),
        ),
        403: (
            _("No access"),
            _("This page is not available with your role. Ask your supervisor if you need it."),
        ),
        404: (
            _("Page not found"),
            _("There is no such page, or it is not available to you."),
        ),
        500: (
            _("Something went wrong"),
            _("The error has been logged. Try again in a minute; if it repeats, tell support."),
        ),
    }[status]


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _render(request: HttpRequest, status: int) -> HttpResponse:
    title, text = _messages(status)
    if status == 500:
        template = "errors/500.html"
    elif request.path.startswith(PORTAL_PREFIXES) and not _is_staff(request):
        template = "portal/error.html"
    else:
        template = "errors/staff.html"
    context = {"status": status, "error_title": title, "error_text": text}
    body = loader.render_to_string(template, context, request=None if status == 500 else request)
    response = HttpResponse(body, status=status)
    if is_htmx(request):
        # htmx does not swap an error answer; the page's script shows this text instead.
        response["X-Error-Message"] = f"{title}. {text}".encode("ascii", "xmlcharrefreplace")
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _render(request, 500)
