"""The proactive call list: reasons, ranking, outcome in two clicks, drop-off and snooze."""

from datetime import date, timedelta

from django.urls import reverse

from otklik.clients.models import ProductStatus
from otklik.relationship.calllist import call_list
from otklik.relationship.health import health_recompute
from otklik.relationship.models import CallOutcome, ManagerTask, OnboardingStep, Outcome
from otklik.relationship.services import call_outcome_log, onboarding_start
from tests.factories import make_product
from tests.relationship.conftest import TODAY, feed, premium_client


def _keys(items):
    return {i.client.pk: [r.key for r in i.reasons] for i in items}


def test_shortfall_reason_says_how_much_and_days_left(desk, fixed_today):
    short = premium_client(desk.pavel, desk.platinum)
    fine = premium_client(desk.pavel, desk.platinum)
    feed(short, "card_spend", "87600")
    feed(fine, "card_spend", "150000")
    feed(fine, "uses_app", 1)
    feed(fine, "salary_credited", 1)
    health_recompute()

    items = call_list(managers=[desk.pavel.pk])
    texts = {i.client.pk: [r.text for r in i.reasons] for i in items}
    assert fine.pk not in texts
    fee = texts[short.pk][0]
    assert "ещё 12\u00a0400 ₽ до бесплатного обслуживания" in fee or "ещё 12 400 ₽" in fee
    assert "29" in fee


def test_ranking_and_other_reasons(desk, fixed_today):
    birthday = premium_client(desk.pavel, None, birth_date=date(1980, 12, 3))
    card = premium_client(desk.pavel, None)
    make_product(
        card,
        details={
            "pan": "220070000000000",
            "payment_system": "Мир",
            "level": "Premium",
            "expires": "01/27",
        },
    )
    old_card = premium_client(desk.pavel, None)
    make_product(
        old_card,
        details={
            "pan": "220070000000000",
            "payment_system": "Мир",
            "level": "Premium",
            "expires": "01/29",
        },
    )
    make_product(
        old_card,
        status=ProductStatus.CLOSED,
        details={
            "pan": "220070000000000",
            "payment_system": "Мир",
            "level": "Premium",
            "expires": "12/26",
        },
    )
    new = premium_client(desk.pavel, None)
    onboarding_start(clients=[new], today=TODAY - timedelta(days=10))

    items = call_list(managers=[desk.pavel.pk])
    keys = _keys(items)
    assert keys[birthday.pk] == ["birthday:2026"]
    assert keys[card.pk] == [
        f"card:{card_product}" for card_product in card.products.values_list("pk", flat=True)
    ]
    assert old_card.pk not in keys
    assert len(keys[new.pk]) == 4  # every step overdue
    # birthday today (80) before the overdue onboarding (65+15) ... ranked by weight
    ranks = [i.client.pk for i in items]
    assert ranks.index(new.pk) < ranks.index(card.pk)
    assert ranks.index(birthday.pk) < ranks.index(card.pk)


def test_talked_drops_the_client_no_answer_snoozes_a_day(desk, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    b = premium_client(desk.pavel, desk.platinum)
    for c in (a, b):
        feed(c, "card_spend", "87600")
        feed(c, "uses_app", 1)
        feed(c, "salary_credited", 1)
    health_recompute()
    items = {i.client.pk: i for i in call_list(managers=[desk.pavel.pk])}
    call_outcome_log(
        actor=desk.pavel, client=a, outcome=Outcome.TALKED, reason_keys=items[a.pk].keys
    )
    call_outcome_log(
        actor=desk.pavel, client=b, outcome=Outcome.NO_ANSWER, reason_keys=items[b.pk].keys
    )

    assert _keys(call_list(managers=[desk.pavel.pk])) == {}
    tomorrow = TODAY + timedelta(days=1)
    assert set(_keys(call_list(managers=[desk.pavel.pk], today=tomorrow))) == {b.pk}
    # Next month's shortfall is a new reason: a comes back.
    feed(a, "card_spend", "1000", period=date(2027, 1, 1))


def test_call_back_creates_a_task_that_brings_the_client_back(desk, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    feed(a, "card_spend", "87600")
    health_recompute()
    call_outcome_log(
        actor=desk.pavel, client=a, outcome=Outcome.CALL_BACK, reason_keys=["fee:2026-12"]
    )
    task = ManagerTask.objects.get(client=a)
    assert task.manager == desk.pavel
    later = TODAY + timedelta(days=2)
    first = call_list(managers=[desk.pavel.pk], today=later)[0]
    assert first.reasons[0].kind == "task"


def test_two_click_outcome_view_removes_the_row(client, desk, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    feed(a, "card_spend", "87600")
    health_recompute()
    client.force_login(desk.pavel)
    page = client.get(reverse("relationship:calls")).content.decode()
    assert f'data-client="{a.pk}"' in page
    r = client.post(
        reverse("relationship:call_outcome", args=[a.pk]),
        {"outcome": "talked"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and r.content == b""
    assert CallOutcome.objects.get(client=a).outcome == "talked"
    assert f'data-client="{a.pk}"' not in client.get(reverse("relationship:calls")).content.decode()


def test_covered_colleagues_clients_are_on_the_deputys_list(desk, fixed_today):
    hers = premium_client(desk.marina, desk.platinum)
    feed(hers, "card_spend", "50000")
    health_recompute()
    from otklik.relationship.selectors import book_managers

    managers = book_managers(user=desk.pavel)
    assert desk.marina.pk in managers
    assert hers.pk in _keys(call_list(managers=managers))
    OnboardingStep.objects.all().delete()
