from django.urls import path

from otklik.live import views

app_name = "live"

urlpatterns = [
    path("events", views.events, name="events"),
    path("events/read", views.mark_read, name="mark_read"),
]
