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
