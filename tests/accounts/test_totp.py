"""TOTP for staff: enrolment, the code after the password, replay refused, roles that must."""

import re
from datetime import timedelta

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.accounts import totp
from otklik.accounts.models import Role, StaffTotp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-12345"


def _enrol(user) -> str:
    _row, secret = totp.enrolment_start(user=user)
    assert totp.verify(user=user, code=pyotp.TOTP(secret).now(), confirming=True)
    return secret


def _code(secret, now=None, shift=0):
    now = now or timezone.now()
    return pyotp.TOTP(secret).at(int(now.timestamp()) + shift)


def _password(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_enrolment_shows_qr_and_key_once_and_confirms_with_a_code(client):
    user = UserFactory(username="sue", role=Role.SUPERVISOR)
    client.force_login(user)
    page = client.get(reverse("accounts:totp_setup")).content.decode()
    assert 'class="totp-qr"' in page
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert totp.pending_secret(user=user) == shown
    # The secret is stored only encrypted.
    row = StaffTotp.objects.get(user=user)
    assert shown not in row.sealed_secret
    wrong = client.post(reverse("accounts:totp_setup"), {"code": "000000"})
    if _code(shown) != "000000":
        assert wrong.status_code == 422
    done = client.post(reverse("accounts:totp_setup"), {"code": _code(shown)})
    assert 'id="totp-enrolled"' in done.content.decode()
    again = client.get(reverse("accounts:totp_setup")).content.decode()
    assert shown not in again and "totp-qr" not in again  # never shown after enrolment


def test_an_enrolled_user_needs_the_code_after_the_password(client):
    user = UserFactory(username="sue", role=Role.SUPERVISOR)
    secret = _enrol(user)
    response = _password(client, "sue")
    assert response["Location"] == reverse("accounts:login_code")
    assert "_auth_user_id" not in client.session  # the password alone logs nobody in
    assert client.get(reverse("workspace:queue")).status_code == 302
    wrong = client.post(reverse("accounts:login_code"), {"code": "12345x"})
    assert wrong.status_code == 422 and "_auth_user_id" not in client.session
    ok = client.post(reverse("accounts:login_code"), {"code": _code(secret, shift=30)})
    assert ok.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(reverse("workspace:queue")).status_code == 200


def test_the_same_code_is_refused_a_second_time(client):
    user = UserFactory(username="sue", role=Role.SUPERVISOR)
    secret = _enrol(user)
    now = timezone.now() + timedelta(seconds=60)  # a step after the enrolment's
    code = _code(secret, now)
    assert totp.verify(user=user, code=code, now=now)
    assert not totp.verify(user=user, code=code, now=now)
    assert not totp.verify(user=user, code=code, now=now + timedelta(seconds=20))
    # An older step's code is refused too, however valid it was in its time.
    assert not totp.verify(user=user, code=_code(secret, now, shift=-30), now=now)


def test_the_enrolment_code_cannot_be_replayed_at_login(client):
    user = UserFactory(username="sue", role=Role.SUPERVISOR)
    _row, secret = totp.enrolment_start(user=user)
    code = pyotp.TOTP(secret).now()
    assert totp.verify(user=user, code=code, confirming=True)
    _password(client, "sue")
    refused = client.post(reverse("accounts:login_code"), {"code": code})
    assert refused.status_code == 422 and "_auth_user_id" not in client.session


def test_wrong_codes_count_towards_the_account_lock(client, settings):
    settings.OTKLIK_LOGIN_FAILURES_PER_ACCOUNT = 3
    user = UserFactory(username="sue", role=Role.SUPERVISOR)
    secret = _enrol(user)
    _password(client, "sue")
    for _ in range(3):
        client.post(reverse("accounts:login_code"), {"code": "00000x"})
    locked = client.post(reverse("accounts:login_code"), {"code": _code(secret, shift=30)})
    assert "Повторите через" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_required_roles_cannot_work_without_an_authenticator(client, settings):
    settings.OTKLIK_REQUIRE_2FA_ROLES = ["admin", "supervisor"]
    UserFactory(username="sue", role=Role.SUPERVISOR, is_staff=True)
    alice = UserFactory(username="alice", role=Role.OPERATOR)
    _password(client, "sue")
    for url in (reverse("workspace:queue"), "/admin/", "/admin/accounts/user/"):
        page = client.get(url, HTTP_ACCEPT="text/html")
        assert page["Location"] == reverse("accounts:totp_setup"), url
    # A background request is refused, not redirected (nothing to swap into the screen).
    assert client.get(reverse("workspace:queue"), HTTP_HX_REQUEST="true").status_code == 403
    page = client.get(reverse("accounts:totp_setup")).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    client.post(reverse("accounts:totp_setup"), {"code": _code(secret)})
    assert client.get(reverse("workspace:queue")).status_code == 200
    # An operator is not required to.
    other = client.__class__()
    _password(other, "alice")
    assert alice.pk and other.get(reverse("workspace:queue")).status_code == 200


def test_a_session_without_the_code_is_signed_out_once_required(client, settings):
    sue = UserFactory(username="sue", role=Role.SUPERVISOR)
    _enrol(sue)
    client.force_login(sue)  # e.g. a session from before the setting was turned on
    settings.OTKLIK_REQUIRE_2FA_ROLES = ["supervisor"]
    response = client.get(reverse("workspace:queue"), HTTP_ACCEPT="text/html")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_off_by_default_so_demo_logins_work(client, settings):
    assert settings.OTKLIK_REQUIRE_2FA_ROLES == []
    UserFactory(username="sue", role=Role.SUPERVISOR)
    assert _password(client, "sue")["Location"] == reverse("workspace:queue")
