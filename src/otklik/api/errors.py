"""One error shape for the whole API.

Every refused request answers `{"detail": [{"loc": [...], "msg": ..., "type": ..., "field": ...}]}`
(422, or 409 for a conflict) whether pydantic rejected the input or a service refused it;
401, 404 and 403 (the caller's role may not do this) answer `{"detail": "<message>"}`.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from otklik.common.errors import ConflictError, NotAllowed


def _field_of(loc: list) -> str:
    """The dotted path inside the request part: body.payload.details.pan → details.pan."""
    skip = 2 if loc and loc[0] == "body" and len(loc) > 1 else 1
    return ".".join(str(part) for part in loc[skip:])


def error_item(loc: list, msg: str, type_: str) -> dict:
    return {"loc": loc, "msg": msg, "type": type_, "field": _field_of(loc)}


def error_body(items: list[dict]) -> dict:
    return {"detail": items}


def _body_prefix(request: HttpRequest) -> list[str]:
    return ["query"] if request.method in ("GET", "HEAD") else ["body", "payload"]


def service_error_items(request: HttpRequest, exc: DjangoValidationError) -> list[dict]:
    """Turn a service's field→messages dict into error items located in the request body."""
    prefix = _body_prefix(request)
    type_ = "conflict" if isinstance(exc, ConflictError) else "service_error"
    if not hasattr(exc, "error_dict"):
        return [error_item(prefix, str(m), type_) for m in exc.messages]
    items = []
    for field, messages in exc.message_dict.items():
        loc = prefix if field == NON_FIELD_ERRORS else [*prefix, *field.split(".")]
        items += [error_item(loc, str(m), type_) for m in messages]
    return items


def install_error_handlers(api: NinjaAPI) -> None:
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        items = [
            error_item(list(e.get("loc", [])), str(e.get("msg", "")), str(e.get("type", "")))
            for e in exc.errors
        ]
        return api.create_response(request, error_body(items), status=422)

    def service_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        if isinstance(exc, NotAllowed):  # a role rule, the same the workspace applies
            return api.create_response(request, {"detail": " ".join(exc.messages)}, status=403)
        status = 409 if isinstance(exc, ConflictError) else 422
        return api.create_response(
            request, error_body(service_error_items(request, exc)), status=status
        )

    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"detail": _("Not found.")}, status=404)

    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(
            request, {"detail": _("Authentication required: send a Bearer token.")}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="otklik"'
        return response

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:  # the only 400 ninja raises: a body that is not JSON
            items = [error_item(["body"], _("The request body is not valid JSON."), "json_invalid")]
            return api.create_response(request, error_body(items), status=400)
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)

    api.add_exception_handler(NinjaValidationError, validation_error)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(DjangoValidationError, service_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(AuthenticationError, unauthorized)
