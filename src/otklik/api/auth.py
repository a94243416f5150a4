"""Who is calling: a bearer token (integrations) or the workspace's session (with CSRF)."""

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from otklik.accounts.models import User
from otklik.accounts.services import api_token_authenticate


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer otk_...`; revoked tokens and inactive users are refused."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user  # so code reading request.user sees the token's owner
        return user


class SessionCsrfAuth(SessionAuth):
    """The logged-in workspace user; unsafe methods must carry the CSRF token.

    CSRF is checked only when a session user is present, so an anonymous request gets
    401 (not 403 "CSRF failed") and token callers never need a CSRF token.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        return user if user.is_authenticated and user.is_active else None


api_auth = [BearerTokenAuth(), SessionCsrfAuth()]
