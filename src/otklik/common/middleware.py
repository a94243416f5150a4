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
