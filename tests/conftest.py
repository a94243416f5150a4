"""Shared fixtures: a named cast for permission boundaries (see ../shared/STYLE.md)."""

from dataclasses import dataclass

import pytest

from otklik.accounts.models import Department, Role, Team, User
from tests.factories import DepartmentFactory, TeamFactory, UserFactory


@dataclass
class Cast:
    team_a: Team
    team_b: Team
    security: Department
    treasury: Department
    alice: User  # operator, team A
    olga: User  # senior operator, team A
    bob: User  # operator, team B
    sam: User  # specialist, security
    tom: User  # specialist, treasury
    sue: User  # supervisor
    pavel: User  # personal manager, team B


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request in English must not leave English
    active for the next test of the same thread."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength makes every login-using test slow; tests need no strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_spool_dir(settings, tmp_path):
    """Each test spools its read audits (audit/spool.py) into its own directory."""
    settings.OTKLIK_AUDIT_SPOOL_DIR = str(tmp_path / "audit-spool")


@pytest.fixture(autouse=True)
def _fresh_portal_code_throttles(monkeypatch):
    """Portal code throttles count in a shared store (Redis in CI, kept between runs): give each
    test its own key space, wherever it requests a portal code (portal, orders, retention)."""
    import uuid

    from otklik.portal import login_codes

    monkeypatch.setattr(login_codes._attempts, "prefix", f"test-portal:{uuid.uuid4().hex}")
    monkeypatch.setattr(login_codes._pacing, "prefix", f"test-portal-pacing:{uuid.uuid4().hex}")


@pytest.fixture
def cast(db) -> Cast:
    team_a = TeamFactory(name="Вторая линия")
    team_b = TeamFactory(name="Чат банка")
    security = DepartmentFactory(code="security", name="Служба безопасности")
    treasury = DepartmentFactory(code="treasury", name="Казначейство")
    return Cast(
        team_a=team_a,
        team_b=team_b,
        security=security,
        treasury=treasury,
        alice=UserFactory(username="alice", role=Role.OPERATOR, team=team_a),
        olga=UserFactory(username="olga", role=Role.SENIOR_OPERATOR, team=team_a),
        bob=UserFactory(username="bob", role=Role.OPERATOR, team=team_b),
        sam=UserFactory(username="sam", role=Role.SPECIALIST, department=security),
        tom=UserFactory(username="tom", role=Role.SPECIALIST, department=treasury),
        sue=UserFactory(username="sue", role=Role.SUPERVISOR),
        pavel=UserFactory(username="pavel", role=Role.PERSONAL_MANAGER, team=team_b),
    )


# Browser fixtures (chromium_executable, browser, browser_page, artifacts_dir) for
# @pytest.mark.browser tests; see tests/browser.py.
from tests.browser import (  # noqa: E402
    artifacts_dir,  # noqa: F401
    browser,  # noqa: F401
    browser_page,  # noqa: F401
    chromium_executable,  # noqa: F401
)


def pytest_sessionfinish(session, exitstatus):
    """Remove the side files (WAL, writer lock) left next to the deleted SQLite test database."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and settings.DATABASES["default"]["ENGINE"].endswith(("sqlite3", "sqlite_backend")):
        from pathlib import Path

        for suffix in ("-wal", "-shm", ".writer-lock"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
