"""WebSocket routes for live workspace updates."""

websocket_urlpatterns: list = []
