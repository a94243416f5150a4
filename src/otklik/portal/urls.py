from django.urls import path
from django.views.generic import RedirectView

from otklik.portal import views

app_name = "portal"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:cases"), name="home"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("cases/", views.cases, name="cases"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/reply", views.case_reply, name="case_reply"),
    path(
        "cases/<int:case_id>/messages/<int:message_id>/rating",
        views.message_rate,
        name="message_rate",
    ),
    path("notifications/", views.notifications, name="notifications"),
    # Staff side of the portal answer standard.
    path("stats/", views.stats, name="stats"),
    path("staff/cases/<int:case_id>/promise", views.staff_promise, name="staff_promise"),
    path("staff/cases/<int:case_id>/answer", views.staff_answer, name="staff_answer"),
]
