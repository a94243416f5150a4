from django.urls import path

from otklik.orders import views

app_name = "orders"
urlpatterns = [
    # Staff (the case page panel).
    path("case/<int:case_id>/draft", views.draft, name="draft"),
    path("case/<int:case_id>/preview", views.preview, name="preview"),
    path("<int:order_id>/send", views.send, name="send"),
    path("<int:order_id>/cancel", views.cancel, name="cancel"),
    path("<int:order_id>/unfreeze", views.unfreeze, name="unfreeze"),
    path("<int:order_id>/documents/<int:document_id>/", views.document, name="document"),
    path("steps/<int:step_id>/retry", views.step_retry, name="step_retry"),
    path("steps/<int:step_id>/resolve", views.step_resolve, name="step_resolve"),
    # The client (portal).
    path("portal/", views.portal_list, name="portal_list"),
    path("portal/<int:order_id>/", views.portal_detail, name="portal_detail"),
    path("portal/<int:order_id>/code", views.portal_code, name="portal_code"),
    path("portal/<int:order_id>/sign", views.portal_sign, name="portal_sign"),
    path(
        "portal/<int:order_id>/documents/<int:document_id>/",
        views.portal_document,
        name="portal_document",
    ),
]
