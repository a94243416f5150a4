from django.urls import path

from otklik.imports import views

app_name = "imports"

urlpatterns = [
    path("files/<int:file_id>", views.imported_file, name="file"),
]
