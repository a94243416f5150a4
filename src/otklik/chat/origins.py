"""Which sites may talk to the chat: this server's own hosts, plus the sites that embed
the widget (OTKLIK_CHAT_ALLOWED_ORIGINS, e.g. "https://bank.example").

WebSockets under /ws/chat/ accept both; every other WebSocket keeps the plain
ALLOWED_HOSTS check. The widget's HTTP endpoints answer CORS for allowed origins only.
Staff sessions are honoured only from this server's own hosts (see consumers), so an
embedding site cannot ride on an operator's cookies.
"""

from urllib.parse import urlparse

from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator
from django.conf import settings

CHAT_WS_PREFIX = "/ws/chat/"


def _own_patterns() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    return hosts


def _match(origin: str | None, patterns: list[str]) -> bool:
    if not origin:
        return False
    checker = OriginValidator(None, patterns)
    return checker.valid_origin(urlparse(origin))


def is_own_origin(origin: str | None) -> bool:
    return _match(origin, _own_patterns())


def is_widget_origin(origin: str | None) -> bool:
    """An embedding site or this server itself."""
    return _match(origin, [*settings.OTKLIK_CHAT_ALLOWED_ORIGINS, *_own_patterns()])


def header(scope_or_headers, name: bytes = b"origin") -> str:
    for key, value in scope_or_headers.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


class ChatOriginValidator:
    """The WebSocket origin check: chat sockets also accept the embedding sites."""

    def __init__(self, application):
        self.application = application
        self.default = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "websocket" and scope.get("path", "").startswith(CHAT_WS_PREFIX):
            chat = OriginValidator(
                self.application, [*settings.OTKLIK_CHAT_ALLOWED_ORIGINS, *_own_patterns()]
            )
            return await chat(scope, receive, send)
        return await self.default(scope, receive, send)
