from django.urls import path

from otklik.presence import views

app_name = "presence"

urlpatterns = [
    path("cases/<int:case_id>/drafts", views.drafts, name="drafts"),
    path("cases/<int:case_id>/live", views.case_live, name="case_live"),
]
