from django.urls import path

from otklik.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.drill, name="drill"),
    path("export/<slug:table>.<slug:fmt>", views.export, name="export"),
]
