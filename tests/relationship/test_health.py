"""Health criteria as data: met or not, by how much, and the fee-free verdict."""

from datetime import timedelta
from decimal import Decimal

from otklik.relationship.health import client_health, days_left_in_month, health_recompute
from otklik.relationship.models import HealthResult, HealthSummary
from tests.relationship.conftest import TODAY, feed, premium_client


def test_short_of_the_spend_criterion_by_12_400(desk, fixed_today):
    client = premium_client(desk.pavel, desk.platinum)
    feed(client, "card_spend", "87600")
    feed(client, "balance", "412760")
    feed(client, "uses_app", 1)

    health = client_health(client=client)

    assert not health.fee_free
    assert health.fee_shortfall == Decimal("12400")
    spend = next(r for r in health.results if r.criterion.metric.code == "card_spend")
    assert (spend.met, spend.gap) == (False, Decimal("12400"))
    app = next(r for r in health.results if r.criterion.metric.code == "uses_app")
    assert app.met
    # weights: spend 3, balance 3, salary 1, app 1 -> 1 of 8 met
    assert health.score == round(100 * 1 / 8)


def test_either_fee_criterion_keeps_the_package_free(desk, fixed_today):
    client = premium_client(desk.pavel, desk.platinum)
    feed(client, "card_spend", "1000")
    feed(client, "balance", "1600000")
    health = client_health(client=client)
    assert health.fee_free and health.fee_shortfall == 0


def test_a_stale_daily_value_does_not_count(desk, fixed_today):
    client = premium_client(desk.pavel, desk.platinum)
    feed(client, "balance", "2000000", period=TODAY - timedelta(days=30))
    balance = next(
        r for r in client_health(client=client).results if r.criterion.metric.code == "balance"
    )
    assert not balance.met and balance.value is None


def test_recompute_stores_results_and_summary_and_updates_them(desk, fixed_today):
    short = premium_client(desk.pavel, desk.platinum)
    fine = premium_client(desk.pavel, desk.platinum)
    feed(short, "card_spend", "87600")
    feed(fine, "card_spend", "150000")

    assert health_recompute() == 2
    assert HealthSummary.objects.get(client=short).fee_shortfall == Decimal("12400")
    assert HealthSummary.objects.get(client=fine).fee_free
    # Platinum has no paid-but-unused criterion: nothing per criterion is stored.
    assert not HealthResult.objects.filter(client=short).exists()

    feed(short, "card_spend", "100000")
    health_recompute(client_ids=[short.pk])
    summary = HealthSummary.objects.get(client=short)
    assert summary.fee_free and summary.fee_shortfall == 0


def test_days_left_counts_today():
    assert days_left_in_month(TODAY) == 29
    assert days_left_in_month(TODAY.replace(day=31)) == 1
