"""Staff sign-in is throttled per account and per address, with the time to retry shown."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.accounts.login import LoginLocked, login_check_allowed, login_failed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-12345"


def _post(client, username, password, ip="203.0.113.10"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_is_refused_after_repeated_wrong_ones(client, settings):
    UserFactory(username="alice")
    for _ in range(settings.OTKLIK_LOGIN_FAILURES_PER_ACCOUNT - 1):
        assert _post(client, "alice", "wrong").status_code == 200
    locked = _post(client, "alice", "wrong")
    assert "Слишком много неудачных попыток входа" in locked.content.decode()
    # 60 more guesses change nothing, and the right password no longer opens the account.
    response = _post(client, "alice", PASSWORD)
    page = response.content.decode()
    assert response.status_code == 200 and not _signed_in(client)
    assert re.search(r"Повторите через 1[45] минут \(после \d\d:\d\d\)", page), page


def test_the_lock_ends_after_the_period(settings):
    UserFactory(username="alice")
    now = timezone.now()
    limit = settings.OTKLIK_LOGIN_FAILURES_PER_ACCOUNT
    for _ in range(limit - 1):
        login_failed(username="alice", ip="203.0.113.10", now=now)
    with pytest.raises(LoginLocked):
        login_failed(username="alice", ip="203.0.113.10", now=now)
    with pytest.raises(LoginLocked):  # also from another address, and typed otherwise
        login_check_allowed(username=" Alice ", ip="198.51.100.7", now=now + timedelta(minutes=14))
    later = now + timedelta(seconds=settings.OTKLIK_LOGIN_LOCKOUT_SECONDS + 1)
    login_check_allowed(username="alice", ip="203.0.113.10", now=later)  # open again


def test_the_account_lock_does_not_touch_other_accounts(client, settings):
    UserFactory(username="alice")
    UserFactory(username="bob")
    for _ in range(settings.OTKLIK_LOGIN_FAILURES_PER_ACCOUNT):
        _post(client, "alice", "wrong")
    assert _post(client, "bob", PASSWORD, ip="198.51.100.8").status_code == 302


def test_one_address_guessing_across_accounts_is_locked(client, settings):
    settings.OTKLIK_LOGIN_FAILURES_PER_ADDRESS = 6
    UserFactory(username="carol")
    for n in range(6):  # each account stays under its own limit
        _post(client, f"user-{n}", "wrong", ip="192.0.2.50")
    response = _post(client, "carol", PASSWORD, ip="192.0.2.50")
    assert not _signed_in(client)
    assert "Повторите через" in response.content.decode()
    assert _post(client, "carol", PASSWORD, ip="192.0.2.51").status_code == 302


def test_the_admin_login_goes_through_the_throttled_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
