"""ASGI entry point: HTTP through Django, WebSockets through Channels (live updates, chat)."""

import os

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
django_asgi_app = get_asgi_application()

from otklik.chat.origins import ChatOriginValidator  # noqa: E402
from otklik.live.routing import websocket_urlpatterns  # noqa: E402  (needs apps loaded)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ChatOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
