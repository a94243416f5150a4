"""Small HTTP helpers shared by the server-rendered pages (workspace, handoffs, portal...)."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def htmx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also works for htmx requests (which would otherwise follow it inline)."""
    if is_htmx(request):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def service_errors(exc: ValidationError) -> dict[str, str]:
    """A service's refusal as {field: "message message"}; errors on no field go under "form"."""
    if hasattr(exc, "error_dict"):
        return {
            ("form" if field == NON_FIELD_ERRORS else field): " ".join(msgs)
            for field, msgs in exc.message_dict.items()
        }
    return {"form": " ".join(exc.messages)}


def int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None
