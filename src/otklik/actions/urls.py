from django.urls import path

from otklik.actions import views

app_name = "actions"
urlpatterns = [
    path("products/<int:product_id>/", views.product_panel, name="product_panel"),
    path("products/<int:product_id>/verify/", views.client_verify, name="client_verify"),
    path("products/<int:product_id>/<slug:code>/", views.action_form, name="action_form"),
    path("products/<int:product_id>/<slug:code>/run/", views.action_submit, name="action_submit"),
    path("runs/<int:run_id>/", views.run_status, name="run_status"),
    path("cases/<int:case_id>/runs/", views.case_runs, name="case_runs"),
    path("matrix/", views.matrix, name="matrix"),
    path("demo-backoffice/", views.demo_backoffice, name="demo_backoffice"),
]
