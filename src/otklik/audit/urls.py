from django.urls import path

from otklik.audit import views

app_name = "audit"
urlpatterns = [
    path("access/", views.access_review, name="access_review"),
    path("access/export.csv", views.access_review_export, name="access_review_export"),
]
