"""WebSocket routes for live workspace updates."""

from django.urls import path

from otklik.live.consumers import LiveConsumer

websocket_urlpatterns: list = [
    path("ws/live/", LiveConsumer.as_asgi()),
]
