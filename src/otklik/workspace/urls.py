from django.urls import path

from otklik.workspace import views

app_name = "workspace"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("clients/search", views.client_search, name="client_search"),
    path("clients/<int:client_id>/", views.client_card, name="client_card"),
    path(
        "clients/<int:client_id>/identifiers",
        views.identifiers_reveal,
        name="identifiers_reveal",
    ),
    path("clients/<int:client_id>/intake", views.intake_form, name="intake_form"),
    path("clients/<int:client_id>/intake/new", views.intake_submit, name="intake_submit"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("clients/<int:client_id>/products", views.client_products_fragment, name="products"),
    path("cases/<int:case_id>/header", views.case_header, name="case_header"),
    path("cases/<int:case_id>/continue", views.case_continue, name="case_continue"),
    path("cases/<int:case_id>/status", views.case_transition, name="case_transition"),
    path("cases/<int:case_id>/edit", views.case_edit, name="case_edit"),
    path("cases/<int:case_id>/messages", views.message_create, name="message_create"),
]
