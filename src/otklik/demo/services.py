"""The demo: the five stories' clients and cases, the staff who work them, some filler.

Everything is written through the domain services, so history, search keys and
timelines are exactly what real use would produce. Names, numbers and companies are
invented. Loading is idempotent: a second run finds the demo and changes nothing.
"""

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.db import transaction
from django.utils import timezone

from otklik.accounts.models import ApiToken, Role, User
from otklik.cases.models import (
    Case,
)
from otklik.clients.models import (
    Client,
    ContactPoint,
)
from otklik.demo.builder import DemoBuilder
from otklik.demo.reference import (
    BANK_CHAT,
    BROKER,
    MFO,
    PREMIUM,
    TELECOM,
    Reference,
    reference_data_ensure,
)


@dataclass(frozen=True)
class DemoLogin:
    """One demo account: how to log in and who it is."""

    role: str
    login: str
    password: str
    first_name: str
    last_name: str
    team: str = ""
    department: str = ""
    superuser: bool = False


# Memorable logins for development; the password is always "otklik-" + the login. In
# production (load_demo --force) the accounts get random passwords instead.
DEMO_STAFF: tuple[DemoLogin, ...] = (
    DemoLogin(Role.OPERATOR, "operator", "otklik-operator", "Анна", "Морозова", team=BANK_CHAT),
    DemoLogin(Role.OPERATOR, "chat", "otklik-chat", "Игорь", "Смирнов", team=BANK_CHAT),
    DemoLogin(Role.OPERATOR, "broker", "otklik-broker", "Ольга", "Сергеева", team=BROKER),
    DemoLogin(Role.SENIOR_OPERATOR, "senior", "otklik-senior", "Елена", "Кравцова", team=BROKER),
    DemoLogin(Role.OPERATOR, "mfo", "otklik-mfo", "Дарья", "Полякова", team=MFO),
    DemoLogin(Role.OPERATOR, "telecom", "otklik-telecom", "Светлана", "Гусева", team=TELECOM),
    # Story 004: a refund over the operator's 3 000 ₽ goes through the team's senior operator.
    DemoLogin(
        Role.SENIOR_OPERATOR,
        "telecom_senior",
        "otklik-telecom_senior",
        "Николай",
        "Громов",
        team=TELECOM,
    ),
    DemoLogin(
        Role.PERSONAL_MANAGER, "manager", "otklik-manager", "Евгений", "Ракитин", team=PREMIUM
    ),
    # Story 003: the colleague who is away; «manager» is her deputy and covers her book.
    DemoLogin(
        Role.PERSONAL_MANAGER, "manager2", "otklik-manager2", "Марина", "Белова", team=PREMIUM
    ),
    DemoLogin(
        Role.SPECIALIST, "security", "otklik-security", "Роман", "Тихонов", department="security"
    ),
    DemoLogin(
        Role.SPECIALIST,
        "treasury",
        "otklik-treasury",
        "Марина",
        "Лукьянова",
        department="treasury",
    ),
    DemoLogin(Role.SPECIALIST, "legal", "otklik-legal", "Павел", "Гордеев", department="legal"),
    DemoLogin(Role.SUPERVISOR, "supervisor", "otklik-supervisor", "Ирина", "Волкова"),
    DemoLogin(Role.ADMIN, "admin", "otklik-admin", "Админ", "Откликов", superuser=True),
)

DEMO_INTEGRATION_NAME = "Демо: интеграция телефонии"
# The first story client's phone marks a loaded demo (see demo_is_loaded).
MARKER_PHONE = "+79164821735"


@dataclass
class DemoResult:
    created: bool
    logins: tuple[DemoLogin, ...]
    token: str
    clients: int = 0
    cases: int = 0
    story_clients: dict[str, Client] = field(default_factory=dict)


def demo_is_loaded() -> bool:
    return (
        User.objects.filter(username="operator").exists()
        and ContactPoint.objects.filter(value=MARKER_PHONE).exists()
    )


class DemoRefused(Exception):
    """The demo was asked for outside development without being forced."""


def demo_api_token_raw() -> str:
    """The demo operator's API token as configured for this installation, or "".

    OTKLIK_DEMO_API_TOKEN (a random per-install file under var/ for `make run`), so every
    run can print it. Nothing is derived from SECRET_KEY; real integrations use
    `api_token_create` (random, shown once).
    """
    return settings.OTKLIK_DEMO_API_TOKEN


def _demo_token_ensure(user: User) -> str:
    """The demo token to print: the configured one, or a random one made and shown once."""
    raw = demo_api_token_raw()
    if not raw:
        if ApiToken.objects.filter(user=user, name=DEMO_INTEGRATION_NAME).exists():
            return ""  # random, shown when it was created
        raw = ApiToken.generate()[0]
    ApiToken.objects.get_or_create(
        key_hash=ApiToken.hash(raw),
        defaults={"user": user, "name": DEMO_INTEGRATION_NAME, "prefix": raw[4:12]},
    )
    return raw


class _PrintedPasswordHasher(PBKDF2PasswordHasher):
    """For the development demo's fixed passwords only, which `make run` prints for anyone
    to read: hashing each at full strength (~0.5 s of CPU) protected nothing and cost the
    first start seconds. Same algorithm with fewer rounds; Django re-hashes a password at
    full strength on its first successful login (`must_update`). Random passwords
    (production) keep the full strength."""

    iterations = 1_000


def _staff_ensure(ref: Reference, *, random_passwords: bool) -> tuple[dict[str, User], dict]:
    """The demo staff, created if missing; returns them and the passwords to print.

    With `random_passwords` (production) every account gets a random password, printed
    this once, and an account still on its fixed demo password gets a new one: the
    memorable passwords must never exist in a production database.
    """
    existing = {u.username: u for u in User.objects.filter(username__in=_logins())}
    missing = [spec for spec in DEMO_STAFF if spec.login not in existing]
    shown: dict[str, str] = {}
    if random_passwords:
        fixed = [s for s in DEMO_STAFF if s.login in existing]
        with ThreadPoolExecutor(max_workers=4) as pool:
            still_fixed = list(
                pool.map(lambda spec: existing[spec.login].check_password(spec.password), fixed)
            )
        for spec, is_fixed in zip(fixed, still_fixed, strict=True):
            if is_fixed:
                shown[spec.login] = secrets.token_urlsafe(12)
                existing[spec.login].set_password(shown[spec.login])
                existing[spec.login].save(update_fields=["password"])
        shown.update({spec.login: secrets.token_urlsafe(12) for spec in missing})
    else:
        shown.update({spec.login: spec.password for spec in DEMO_STAFF})
    # Password hashing is deliberately slow (PBKDF2); hash in parallel, hashlib frees the GIL.
    cheap = not random_passwords and get_hasher().algorithm == _PrintedPasswordHasher.algorithm
    hasher = _PrintedPasswordHasher() if cheap else "default"
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = list(
            pool.map(lambda spec: make_password(shown[spec.login], hasher=hasher), missing)
        )
    for spec, password in zip(missing, hashes, strict=True):
        existing[spec.login] = User.objects.create(
            username=spec.login,
            password=password,
            first_name=spec.first_name,
            last_name=spec.last_name,
            role=spec.role,
            team=ref.teams[spec.team] if spec.team else None,
            department=ref.departments[spec.department] if spec.department else None,
            email=f"{spec.login}@otklik.example.com",
            is_staff=spec.superuser,
            is_superuser=spec.superuser,
        )
    return existing, shown


def _logins_shown(shown: dict[str, str]) -> tuple[DemoLogin, ...]:
    """The demo logins with the password to print ("" when it is not shown again)."""
    return tuple(replace(spec, password=shown.get(spec.login, "")) for spec in DEMO_STAFF)


def _logins() -> list[str]:
    return [spec.login for spec in DEMO_STAFF]


@transaction.atomic
def demo_load(*, now: datetime | None = None, seed: int = 2024, force: bool = False) -> DemoResult:
    """Load the demo unless it is there already; always return the logins and token.

    Only in development (DEBUG=1) unless `force`; forced outside development, the demo
    accounts get random passwords, returned (to print) only when they are set.
    """
    if not settings.DEBUG and not force:
        raise DemoRefused(
            "The demo runs only in development (DEBUG=1). To load it anyway use "
            "`load_demo --force` (or OTKLIK_DEMO_FORCE=1): its accounts then get random "
            "passwords, printed once."
        )
    random_passwords = not settings.DEBUG
    ref = reference_data_ensure()
    if demo_is_loaded():
        staff, shown = _staff_ensure(ref, random_passwords=random_passwords)
        demo_extras_load(staff=staff)
        return DemoResult(
            created=False,
            logins=_logins_shown(shown),
            token=_demo_token_ensure(staff["operator"]),
        )
    staff, shown = _staff_ensure(ref, random_passwords=random_passwords)
    token = _demo_token_ensure(staff["operator"])
    builder = DemoBuilder(ref=ref, staff=staff, now=now or timezone.now(), seed=seed)
    clients_before, cases_before = Client.objects.count(), Case.objects.count()
    stories = builder.build()
    demo_extras_load(staff=staff)
    return DemoResult(
        created=True,
        logins=_logins_shown(shown),
        token=token,
        clients=Client.objects.count() - clients_before,
        cases=Case.objects.count() - cases_before,
        story_clients=stories,
    )


def demo_extras_load(*, staff: dict[str, User]) -> None:
    """The parts of the demo other apps own; each loader is idempotent, so a demo loaded
    by an older version gains what newer versions add on the next `make run`."""
    from otklik.accounts.services import supervisor_grant_admin
    from otklik.actions.demo import load_demo_actions
    from otklik.analytics.demo import load_demo_analytics
    from otklik.chat.demo import load_demo_chat
    from otklik.demo.scenes_003_desk import load_demo_desk
    from otklik.knowledge.demo import load_demo_knowledge
    from otklik.orders.demo import load_demo_orders
    from otklik.portal.demo import load_demo_portal

    supervisor_grant_admin(user=staff["supervisor"])
    load_demo_knowledge()
    load_demo_portal()
    load_demo_orders()
    load_demo_actions()
    load_demo_chat()
    load_demo_desk(manager=staff["manager"])
    from otklik.demo.quality_scene import load_demo_quality

    load_demo_quality()
    load_demo_analytics()
