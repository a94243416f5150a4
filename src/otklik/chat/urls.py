from django.urls import path

from otklik.chat import views

app_name = "chat"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("accepting/", views.accepting, name="accepting"),
    path("unanswered/", views.unanswered, name="unanswered"),
    path("demo/", views.demo, name="demo"),
    path("portal/", views.portal_chat, name="portal"),
    path("<int:conversation_id>/", views.conversation_page, name="conversation"),
    path("<int:conversation_id>/take/", views.take, name="take"),
    path("<int:conversation_id>/poll/", views.staff_poll, name="staff_poll"),
    path(
        "<int:conversation_id>/<slug:action>/",
        views.conversation_action,
        name="conversation_action",
    ),
    path("files/<str:signed>/", views.attachment, name="file"),
    path("api/start/", views.api_start, name="api_start"),
    path("api/<int:conversation_id>/poll/", views.api_poll, name="api_poll"),
    path("api/<int:conversation_id>/messages/", views.api_post, name="api_post"),
    path("api/<int:conversation_id>/attachments/", views.api_upload, name="api_upload"),
    path("api/<int:conversation_id>/<slug:action>/", views.api_action, name="api_action"),
]
