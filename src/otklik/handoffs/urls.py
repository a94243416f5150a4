from django.urls import path

from otklik.handoffs import views

app_name = "handoffs"
urlpatterns = [
    path("", views.queue, name="department_queue"),
    path("<int:handoff_id>/", views.detail, name="detail"),
    path("<int:handoff_id>/take", views.take, name="take"),
    path("<int:handoff_id>/ask", views.ask, name="ask"),
    path("<int:handoff_id>/answer", views.answer, name="answer"),
    path("<int:handoff_id>/reply", views.reply, name="reply"),
    path("<int:handoff_id>/cancel", views.cancel, name="cancel"),
    path("<int:handoff_id>/files/<int:attachment_id>", views.attachment, name="attachment"),
    path("cases/<int:case_id>/panel", views.case_panel, name="case_panel"),
    path("cases/<int:case_id>/banner", views.case_banner, name="case_banner"),
    path("cases/<int:case_id>/send", views.send, name="send"),
    path("cases/<int:case_id>/watch", views.watch, name="watch"),
    path(
        "cases/<int:case_id>/contacts/<int:contact_id>/reachability",
        views.reachability,
        name="reachability",
    ),
]
