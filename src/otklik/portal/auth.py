"""The portal session: which client is logged in, kept apart from staff authentication.

The client's id lives in the Django session under its own key; staff login
(`request.user`) is untouched, and portal logout removes only the portal keys.
"""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

from otklik.clients.models import Client
from otklik.common.timezones import SESSION_TIME_ZONE
from otklik.portal.selectors import portal_client_get

SESSION_CLIENT = "otklik_portal_client_id"
SESSION_CHALLENGE = "otklik_portal_challenge"


def portal_login(request: HttpRequest, client: Client) -> None:
    """Log the client in: a new session key (no fixation), then remember who it is."""
    request.session.pop(SESSION_CHALLENGE, None)
    request.session.pop(SESSION_TIME_ZONE, None)
    request.session.cycle_key()
    request.session[SESSION_CLIENT] = client.pk
    request.session[SESSION_TIME_ZONE] = client.time_zone


def portal_logout(request: HttpRequest) -> None:
    request.session.pop(SESSION_CLIENT, None)
    request.session.pop(SESSION_CHALLENGE, None)
    request.session.pop(SESSION_TIME_ZONE, None)
    request.session.cycle_key()


def portal_client(request: HttpRequest) -> Client | None:
    client = getattr(request, "_portal_client", None)
    if client is None:
        client = portal_client_get(client_id=request.session.get(SESSION_CLIENT))
        request._portal_client = client  # type: ignore[attr-defined]
    return client


def portal_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let only a logged-in client through; `request.portal_client` is that client.

    Pages are never cached: they hold personal data.
    """

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        client = portal_client(request)
        if client is None:
            return HttpResponseRedirect(reverse("portal:login"))
        request.portal_client = client  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
