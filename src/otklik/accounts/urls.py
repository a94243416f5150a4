from django.urls import path

from otklik.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/code/", views.login_code, name="login_code"),
    path("2fa/", views.totp_setup, name="totp_setup"),
]
