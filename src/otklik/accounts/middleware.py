"""Staff whose role requires a second factor reach nothing but enrolment without it."""

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseForbidden, HttpResponseRedirect
from django.urls import reverse

from otklik.accounts import totp
from otklik.accounts.views import SESSION_VERIFIED


class SecondFactorMiddleware:
    """OTKLIK_REQUIRE_2FA_ROLES: a session of such a user without a verified code is sent to
    enrolment (no authenticator yet) or signed out (it has one: sign in with the code).

    Covers every page, the admin included. API bearer tokens are separate credentials.
    """

    EXEMPT_PREFIXES = ("/static/", "/i18n/", "/api/", "/portal/", "/faq/", "/chat/widget")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.session.get(SESSION_VERIFIED)
            and totp.second_factor_required(user)
            and not request.path.startswith(self.EXEMPT_PREFIXES)
        ):
            setup = reverse("accounts:totp_setup")
            if request.path in (setup, reverse("logout")):
                return self.get_response(request)
            if request.headers.get("HX-Request") or "text/html" not in request.headers.get(
                "Accept", ""
            ):
                # A background request (htmx, live polling) gets a refusal, not a page to
                # swap into the screen; the page itself is redirected on its next load.
                return HttpResponseForbidden("second factor required")
            if totp.is_enrolled(user):
                logout(request)
                return HttpResponseRedirect(f"{reverse('login')}?next={request.path}")
            return HttpResponseRedirect(setup)
        return self.get_response(request)
