"""Language choice: Russian unless the person picked another language themselves."""

from django.http import HttpRequest


class ExplicitLanguageOnlyMiddleware:
    """Drop the browser's Accept-Language before Django's LocaleMiddleware reads it.

    Operators of a Russian contact centre often run browsers installed in English; the
    desk must still speak Russian to them. A language chosen with the switch in the
    header (stored in the language cookie) still wins.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every page and API answer this server renders.

    Staff pages, the portal and the API show personal data; no browser or proxy cache may
    keep a copy (a shared PC in a branch, a back button after logout). Static files are
    served before this by WhiteNoise and stay cacheable; a view that sets its own
    Cache-Control keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response


class TimeZoneMiddleware:
    """Render every page on the viewer's clock (after authentication).

    A signed-in member of staff sees their own `time_zone`; a client in the portal sees
    theirs (kept in the session at portal login); everyone else, and anyone without a
    zone, sees the site's `TIME_ZONE`. Never UTC unless someone chose it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        from django.utils import timezone

        from otklik.common.timezones import SESSION_TIME_ZONE, zone

        name = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            name = getattr(user, "time_zone", "")
        elif hasattr(request, "session"):
            name = request.session.get(SESSION_TIME_ZONE, "")
        timezone.activate(zone(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
