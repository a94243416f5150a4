"""Story 003's world on the manager's desk: a book of ~1 600 premium clients.

Евгений (the demo's personal manager) has a book of about 1 600 clients, a few of them
short of the fee-free criterion this month (Константин Орлов by 12 400 ₽), one new
client in onboarding, a birthday and an expiring card, and covers Марина Белова's
clients while she is away. The bulk clients are written with `bulk_create` (a demo of
1 600 clients through the per-client services would take minutes); the story clients
go through the services. Idempotent: a second run finds the colleague's absence and
changes nothing.
"""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from otklik.accounts.models import Team, User
from otklik.clients.models import Client, ClientSearchTerm, Segment
from otklik.clients.services import client_create, product_create
from otklik.common.luhn import luhn_complete
from otklik.demo import names
from otklik.demo.services import DEMO_STAFF
from otklik.relationship.catalogue import desk_rules_ensure
from otklik.relationship.health import health_recompute, month_start
from otklik.relationship.models import (
    Absence,
    ManagerTask,
    Metric,
    MetricValue,
    OnboardingStep,
    RelatedClient,
    Relationship,
)
from otklik.relationship.services import onboarding_start

BOOK_SIZE = 1600
COLLEAGUE_BOOK = 40
COLLEAGUE = "manager2"  # one of DEMO_STAFF, so `demo_logins` prints her login too


def _colleague(team: Team | None) -> User:
    """The absent colleague: made with the demo staff; made here if the desk's demo is
    loaded on its own (as the tests do), with the same login, name and password rule."""
    user = User.objects.filter(username=COLLEAGUE).first()
    if user is None:
        spec = next(s for s in DEMO_STAFF if s.login == COLLEAGUE)
        user = User.objects.create(
            username=spec.login,
            first_name=spec.first_name,
            last_name=spec.last_name,
            role=spec.role,
            team=team,
            password=make_password(spec.password if settings.DEBUG else None),
        )
    return user


def _bulk_clients(manager: User, count: int, rng: random.Random, tag: str) -> list[Client]:
    clients = []
    for i in range(count):
        female = rng.random() < 0.45
        last = names.surname_for(rng.choice(names.SURNAMES), female=female)
        first = rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES)
        patronymic = rng.choice(names.PATRONYMICS)[1 if female else 0]
        clients.append(
            Client(
                last_name=last,
                first_name=first,
                patronymic=patronymic,
                segment=Segment.PRIVATE if i % 17 == 0 else Segment.PREMIUM,
                birth_date=date(
                    1960 + rng.randrange(40), rng.randrange(1, 13), rng.randrange(1, 28)
                ),
                personal_manager=manager,
                preferences=tag,
            )
        )
    created = Client.objects.bulk_create(clients, batch_size=500)
    ClientSearchTerm.objects.bulk_create(
        [ClientSearchTerm(client=c, term=t) for c in created for t in client_search_terms_bare(c)],
        batch_size=2000,
    )
    return created


def client_search_terms_bare(client: Client) -> set[str]:
    """Name keys only: the bulk clients have no contacts or products to index."""
    from otklik.common.text import normalize

    last, first, middle = (
        normalize(x) for x in (client.last_name, client.first_name, client.patronymic)
    )
    return {last, first, f"{last} {first} {middle}", f"{first} {middle}", f"{first} {last}"}


def _feed(
    rows: list[MetricValue], client: Client, metrics: dict, code: str, period: date, value
) -> None:
    rows.append(
        MetricValue(
            client=client,
            metric=metrics[code],
            period=period,
            value=Decimal(str(value)),
            updated_at=timezone.now(),
        )
    )


def _story_client(manager: User) -> Client:
    """Константин Орлов of story 003 (the builder's), or a stand-in when run alone."""
    client = Client.objects.filter(last_name="Орлов", first_name="Константин").first()
    if client is None:
        client = client_create(
            last_name="Орлов",
            first_name="Константин",
            patronymic="Евгеньевич",
            birth_date=date(1983, 2, 19),
            segment=Segment.PREMIUM,
            personal_manager=manager,
            address_as="Константин",
            phones=["+7 903 418-62-90"],
        )
    return client


@transaction.atomic
def load_demo_desk(
    *, manager: User, book_size: int = BOOK_SIZE, now: datetime | None = None, seed: int = 3
) -> bool:
    """Build the desk's demo world once; False when it is there already."""
    if Absence.objects.filter(deputy=manager, manager__username=COLLEAGUE).exists():
        return False
    now = now or timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(seed)
    levels = desk_rules_ensure()
    platinum, black = levels["platinum"], levels["black"]
    metrics = {m.code: m for m in Metric.objects.all()}
    month = month_start(today)
    colleague = _colleague(manager.team)
    Absence.objects.create(
        manager=colleague,
        deputy=manager,
        starts_on=today - timedelta(days=4),
        ends_on=today + timedelta(days=9),
    )

    book = _bulk_clients(manager, book_size, rng, "")
    hers = _bulk_clients(colleague, COLLEAGUE_BOOK, rng, "")
    Relationship.objects.bulk_create(
        [
            Relationship(client=c, package_level=black if i % 5 == 0 else platinum)
            for i, c in enumerate(book + hers)
        ],
        batch_size=1000,
    )
    values: list[MetricValue] = []
    short_hers = {c.pk for c in hers[:2]}  # the covered book has its own calls to make
    for i, c in enumerate(book + hers):
        # Most clients comfortably meet the spend criterion; every 150th is a little short.
        spend = 230_000 + rng.randrange(0, 200_000)
        if i % 150 == 7 or c.pk in short_hers:
            spend = 100_000 - rng.randrange(3, 40) * 1000
        _feed(values, c, metrics, "card_spend", month, spend)
        _feed(values, c, metrics, "balance", today, rng.randrange(200_000, 4_000_000))
        _feed(values, c, metrics, "uses_app", month, 1 if i % 40 else 0)
        _feed(values, c, metrics, "salary_credited", month, 1 if i % 3 else 0)
        _feed(values, c, metrics, "operating_income", month, rng.randrange(800, 9000))
        if i % 5 == 0:  # Black: the concierge they pay for, unused by a few
            _feed(values, c, metrics, "concierge_used", month, 0 if i % 300 == 0 else 1)
    MetricValue.objects.bulk_create(values, batch_size=2000)

    # Story 003: Константин, «на ты», 12 400 ₽ short with the month running out.
    orlov = _story_client(manager)
    Relationship.objects.update_or_create(
        client=orlov,
        defaults={
            "package_level": platinum,
            "informal": True,
            "preferred_channels": "прямой звонок ДПМ, чат в приложении",
            "preferred_hours": "после 18:00",
            "interests": "танковые онлайн-игры; путешествия",
            "inform_about": "невыполнение критериев бесплатности пакета; курс по «Автообмену»",
            "notes": "Зарплату сразу меняет в доллары через «Автообмен».",
        },
    )
    wife = client_create(
        last_name="Орлова",
        first_name="Анна",
        patronymic="Викторовна",
        segment=Segment.PREMIUM,
        personal_manager=manager,
        phones=["+7 903 418-62-91"],
    )
    Relationship.objects.get_or_create(client=wife, defaults={"package_level": platinum})
    RelatedClient.objects.get_or_create(client=orlov, related=wife, defaults={"relation": "жена"})
    RelatedClient.objects.get_or_create(client=wife, related=orlov, defaults={"relation": "муж"})
    story_rows: list[MetricValue] = []
    MetricValue.objects.filter(client__in=[orlov, wife]).delete()
    for code, value, period in (
        ("card_spend", 87_600, month),
        ("balance", 412_760, today),
        ("uses_app", 1, month),
        ("salary_credited", 1, month),
        ("operating_income", 5_400, month),
    ):
        _feed(story_rows, orlov, metrics, code, period, value)
    for code, value, period in (("card_spend", 260_000, month), ("uses_app", 1, month)):
        _feed(story_rows, wife, metrics, code, period, value)
    MetricValue.objects.bulk_create(story_rows)

    # One new client in onboarding: the introductory call done, the rest under way.
    newcomer = client_create(
        last_name="Гордеева",
        first_name="Вероника",
        patronymic="Олеговна",
        segment=Segment.PREMIUM,
        personal_manager=manager,
        phones=["+7 916 555-20-14"],
    )
    Relationship.objects.get_or_create(client=newcomer, defaults={"package_level": platinum})
    onboarding_start(clients=[newcomer], today=today - timedelta(days=5))
    OnboardingStep.objects.filter(client=newcomer, code="intro_call").update(
        done_at=now - timedelta(days=4), done_by=manager
    )
    # A card expiring next month, and a promised call back today.
    expiring = book[11]
    nxt = (month + timedelta(days=32)).replace(day=1)
    product_create(
        client=expiring,
        kind="card",
        name="Карта Mastercard Platinum",
        details={
            "pan": luhn_complete("548673" + f"{rng.randrange(10**9):09d}"),
            "payment_system": "Mastercard",
            "level": "Platinum",
            "expires": nxt.strftime("%m/%y"),
        },
    )
    ManagerTask.objects.create(
        manager=manager,
        client=book[23],
        title="Перезвонить: вопрос по вкладу в юанях",
        due_at=now.replace(hour=11, minute=0, second=0, microsecond=0),
    )
    health_recompute(now=now)
    return True
