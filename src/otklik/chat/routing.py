"""WebSocket routes for the chat (included by otklik.live.routing)."""

from django.urls import path

from otklik.chat.consumers import ChatConsumer

websocket_urlpatterns: list = [
    path("ws/chat/<int:conversation_id>/", ChatConsumer.as_asgi()),
]
