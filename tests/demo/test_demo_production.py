"""Outside development the demo loader refuses, and forced it leaves no fixed password."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from otklik.accounts.models import User
from otklik.demo.management.commands.load_demo import NOT_SHOWN
from otklik.demo.services import DEMO_STAFF

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def printed_passwords(output: str) -> dict[str, str]:
    found = {}
    for spec in DEMO_STAFF:
        match = re.search(rf"^\S+\s+{spec.login}\s+(\S+)", output, re.MULTILINE)
        assert match, f"{spec.login} not printed"
        found[spec.login] = match.group(1)
    return found


def fixed_password_users() -> list[str]:
    return [
        s.login for s in DEMO_STAFF if User.objects.get(username=s.login).check_password(s.password)
    ]


def test_outside_development_the_demo_loader_refuses_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        load_demo()
    assert not User.objects.exists()


def test_forced_in_production_every_account_gets_a_random_password_shown_once(
    settings, monkeypatch
):
    settings.DEBUG = False
    monkeypatch.setenv("OTKLIK_DEMO_FORCE", "1")
    first = load_demo()
    shown = printed_passwords(first)
    assert not fixed_password_users()
    for spec in DEMO_STAFF:
        assert shown[spec.login] != spec.password
        assert User.objects.get(username=spec.login).check_password(shown[spec.login])
    assert len(set(shown.values())) == len(DEMO_STAFF)
    again = load_demo("--force")
    assert set(printed_passwords(again).values()) == {NOT_SHOWN.split()[0]}
    assert not set(shown.values()) & set(re.findall(r"\S+", again))


def test_a_development_demo_forced_into_production_loses_its_fixed_passwords(settings):
    settings.DEBUG = True
    load_demo()
    assert len(fixed_password_users()) == len(DEMO_STAFF)
    settings.DEBUG = False
    shown = printed_passwords(load_demo("--force"))
    assert not fixed_password_users()
    assert all(User.objects.get(username=k).check_password(v) for k, v in shown.items())
