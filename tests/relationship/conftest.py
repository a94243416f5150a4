"""The desk's cast: Pavel (personal manager, team B) and Marina, away, whom he covers."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.clients.models import Client, Segment
from otklik.relationship.catalogue import desk_rules_ensure
from otklik.relationship.models import (
    Absence,
    Metric,
    MetricValue,
    PackageLevel,
    Relationship,
)
from tests.factories import ClientFactory, UserFactory

# A fixed morning: Thursday 3 December 2026, 29 days left in the month (today included).
TODAY = date(2026, 12, 3)
NOW = timezone.make_aware(datetime(2026, 12, 3, 9, 0))


@dataclass
class Desk:
    pavel: User
    marina: User
    platinum: PackageLevel


def premium_client(manager: User, level: PackageLevel | None, **kwargs) -> Client:
    client = ClientFactory(segment=Segment.PREMIUM, personal_manager=manager, **kwargs)
    Relationship.objects.create(client=client, package_level=level)
    return client


def feed(client: Client, metric: str, value, period: date | None = None) -> None:
    m = Metric.objects.get(code=metric)
    if period is None:
        period = TODAY.replace(day=1) if metric != "balance" else TODAY
    MetricValue.objects.update_or_create(
        client=client,
        metric=m,
        period=period,
        defaults={"value": Decimal(str(value)), "updated_at": timezone.now()},
    )


@pytest.fixture
def desk(cast) -> Desk:
    levels = desk_rules_ensure()
    marina = UserFactory(
        username="marina", first_name="Марина", last_name="Белова", role=Role.PERSONAL_MANAGER
    )
    Absence.objects.create(
        manager=marina,
        deputy=cast.pavel,
        starts_on=TODAY - timedelta(days=3),
        ends_on=TODAY + timedelta(days=10),
    )
    return Desk(pavel=cast.pavel, marina=marina, platinum=levels["platinum"])


@pytest.fixture
def fixed_today(monkeypatch):
    """Freeze the desk's idea of today (call list, absences) at TODAY."""
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return TODAY
