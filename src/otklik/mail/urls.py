from django.urls import path

from otklik.mail import views

app_name = "mail"

urlpatterns = [
    path("cases/<int:case_id>/", views.case_panel, name="case_panel"),
    path("cases/<int:case_id>/reply", views.reply, name="reply"),
    path("attachments/<int:attachment_id>", views.attachment, name="attachment"),
]
