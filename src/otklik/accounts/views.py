"""Staff sign-in: password (throttled), then the authenticator code, and TOTP enrolment.

The password step logs nobody in when the account has an authenticator: it remembers
who passed in the session and asks for the code; only a valid, unused code logs in.
"""

import time

from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from otklik.accounts import totp
from otklik.accounts.login import LoginLocked, login_check_allowed, login_failed

SESSION_PENDING = "otklik_2fa_pending"
SESSION_VERIFIED = "otklik_2fa_verified"
PENDING_SECONDS = 300
UNPROCESSABLE = 422


def client_ip(request: HttpRequest) -> str:
    # Deployments behind a proxy set REMOTE_ADDR from the trusted header (see README).
    return request.META.get("REMOTE_ADDR") or "-"


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's form, refused outright while the account or the address is locked."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        try:
            login_check_allowed(username=username, ip=ip)
        except LoginLocked as exc:
            raise ValidationError(exc.messages[0], code="locked") from None
        try:
            return super().clean()
        except ValidationError as exc:
            if exc.code == "invalid_login" or any(
                e.code == "invalid_login" for e in getattr(exc, "error_list", [])
            ):
                try:
                    login_failed(username=username, ip=ip)
                except LoginLocked as locked:
                    raise ValidationError(locked.messages[0], code="locked") from None
            raise


class StaffLoginView(LoginView):
    template_name = "workspace/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm

    def form_valid(self, form):
        user = form.get_user()
        if totp.is_enrolled(user):
            self.request.session[SESSION_PENDING] = {
                "user_id": user.pk,
                "backend": user.backend,
                "next": self.get_success_url(),
                "at": time.time(),
            }
            return HttpResponseRedirect(reverse("accounts:login_code"))
        return super().form_valid(form)


def _pending_user(request: HttpRequest):
    pending = request.session.get(SESSION_PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    return user, pending


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 2 of the sign-in: the six-digit code from the authenticator app."""
    user, pending = _pending_user(request)
    if user is None:
        request.session.pop(SESSION_PENDING, None)
        return HttpResponseRedirect(reverse("login"))
    error = ""
    if request.method == "POST":
        ip = client_ip(request)
        try:
            login_check_allowed(username=user.username, ip=ip)
            if not totp.verify(user=user, code=request.POST.get("code", "")):
                login_failed(username=user.username, ip=ip)
                error = _("The code is wrong or was already used. Enter the current code.")
        except LoginLocked as exc:
            error = exc.messages[0]
        if not error:
            request.session.pop(SESSION_PENDING, None)
            auth_login(request, user, backend=pending["backend"])
            request.session[SESSION_VERIFIED] = True
            target = pending.get("next") or reverse("workspace:queue")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = reverse("workspace:queue")
            return HttpResponseRedirect(target)
    return render(
        request,
        "accounts/login_code.html",
        {"error": error},
        status=UNPROCESSABLE if error else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: the QR code and secret are shown until a code confirms it."""
    user = request.user
    if totp.is_enrolled(user):
        return render(request, "accounts/totp_setup.html", {"enrolled": True})
    error = ""
    if request.method == "POST" and totp.pending_secret(user=user):
        if totp.verify(user=user, code=request.POST.get("code", ""), confirming=True):
            request.session[SESSION_VERIFIED] = True
            return render(request, "accounts/totp_setup.html", {"enrolled": True, "just": True})
        error = _("The code does not match. Check the time on your phone and try again.")
        secret = totp.pending_secret(user=user)
    else:
        # Reload, a second tab or a background request redirected here keep the key being
        # set up (a new key on every GET would make the one on the screen stale).
        secret = totp.pending_secret(user=user) or totp.enrolment_start(user=user)[1]
    uri = totp.provisioning_uri(user=user, secret=secret)
    return render(
        request,
        "accounts/totp_setup.html",
        {
            "enrolled": False,
            "required": totp.second_factor_required(user),
            "qr_svg": totp.qr_svg(uri),
            "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "error": error,
        },
        status=UNPROCESSABLE if error else 200,
    )


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin signs in through the same throttled, two-step staff login."""
    target = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(target, reverse("login"))
