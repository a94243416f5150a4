from django.urls import path

from otklik.telephony import views

app_name = "telephony"

urlpatterns = [
    path("calls/<int:call_id>/", views.call_detail, name="call"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/<int:callback_id>/call", views.callback_call, name="callback_call"),
    path("callbacks/<int:callback_id>/done", views.callback_done, name="callback_done"),
    path("figures/", views.figures, name="figures"),
]
