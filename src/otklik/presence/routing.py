"""WebSocket routes of presence: one socket per open case page or client card."""

from django.urls import re_path

from otklik.presence.consumers import PresenceConsumer

websocket_urlpatterns: list = [
    re_path(r"^ws/presence/(?P<kind>case|client)/(?P<object_id>\d+)/$", PresenceConsumer.as_asgi()),
]
