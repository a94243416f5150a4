"""WebSocket routes for live workspace updates."""

from django.urls import path

from otklik.chat.routing import websocket_urlpatterns as chat_websocket_urlpatterns
from otklik.live.consumers import LiveConsumer

websocket_urlpatterns: list = [
    path("ws/live/", LiveConsumer.as_asgi()),
    *chat_websocket_urlpatterns,
]
