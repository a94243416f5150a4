from django.urls import path

from otklik.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.drill, name="drill"),
    path("export/<slug:table>.<slug:fmt>", views.export, name="export"),
    path("report/", views.report_subscription, name="report_subscription"),
    path("surveys/", views.surveys, name="surveys"),
    path("nps/<str:token>/", views.nps_answer, name="nps_answer"),
]
