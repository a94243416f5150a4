from django.urls import path

from otklik.relationship import views

app_name = "relationship"
urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("assign", views.assign, name="assign"),
    path("calls", views.calls, name="calls"),
    path("calls/<int:client_id>/outcome", views.call_outcome, name="call_outcome"),
    path("clients/<int:client_id>/", views.client_desk, name="client"),
    path("clients/<int:client_id>/tasks", views.task_add, name="task_add"),
    path("clients/<int:client_id>/offers", views.offer, name="offer"),
    path("onboarding/<int:step_id>", views.onboarding_step, name="onboarding_step"),
    path("tasks/<int:task_id>/done", views.task_close, name="task_close"),
    path("feed", views.feed_upload, name="feed"),
    path("figures", views.figures, name="figures"),
]
