"""Reminders through the live channel, offers as rules, the manager's figures, the demo."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from otklik.live.models import LiveEvent
from otklik.relationship.figures import manager_figures, offers_for
from otklik.relationship.health import health_recompute
from otklik.relationship.models import OfferRule, OfferStatus
from otklik.relationship.services import offer_record, task_create, task_reminders_scan
from tests.factories import make_product
from tests.relationship.conftest import NOW, feed, premium_client


def test_due_task_is_pushed_once_to_the_deputy_while_the_manager_is_away(desk, fixed_today):
    hers = premium_client(desk.marina, desk.platinum)
    mine = premium_client(desk.pavel, desk.platinum)
    task_create(actor=desk.marina, client=hers, title="Перезвонить о карте", due_at=NOW)
    task_create(actor=desk.pavel, client=mine, title="Позже", due_at=NOW + timedelta(days=1))
    assert task_reminders_scan(now=NOW) == 1
    assert task_reminders_scan(now=NOW) == 0
    event = LiveEvent.objects.get()
    assert event.user == desk.pavel and "Перезвонить о карте" in event.text
    assert event.payload["client_id"] == hers.pk


def test_offer_rules_as_data(desk, fixed_today):
    salaried = premium_client(desk.pavel, desk.platinum)
    feed(salaried, "salary_credited", 1)
    has_card = premium_client(desk.pavel, desk.platinum)
    feed(has_card, "salary_credited", 1)
    make_product(has_card, name="Кредитная карта «100 дней»")
    nobody = premium_client(desk.pavel, desk.platinum)
    codes = lambda c: [o.code for o in offers_for(client=c)]  # noqa: E731
    assert codes(salaried) == ["credit_card"]
    assert codes(has_card) == []
    assert codes(nobody) == []
    OfferRule.objects.filter(code="credit_card").update(active=False)
    assert codes(salaried) == []


def test_figures_count_the_book_and_the_offers(desk, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    b = premium_client(desk.pavel, desk.platinum)
    premium_client(desk.marina, desk.platinum)
    feed(a, "card_spend", 150000)
    feed(b, "card_spend", 1000)
    feed(a, "operating_income", "5400.50")
    feed(b, "operating_income", 1000)
    health_recompute()
    rule = OfferRule.objects.get(code="credit_card")
    offer_record(actor=desk.pavel, client=a, rule=rule, status=OfferStatus.PROPOSED)
    offer_record(actor=desk.pavel, client=a, rule=rule, status=OfferStatus.ACCEPTED)
    offer_record(actor=desk.pavel, client=b, rule=rule, status=OfferStatus.DECLINED)
    f = manager_figures(managers=[desk.pavel.pk])
    assert f.clients == 2
    assert f.transactor_share == 0.5
    assert f.operating_income == Decimal("6400.50")
    assert (f.offers_proposed, f.offers_accepted) == (2, 1)
    assert f.csi is None and f.service_level is None


def test_figures_page_for_manager_and_supervisor(client, desk, cast, fixed_today):
    premium_client(desk.pavel, desk.platinum)
    client.force_login(desk.pavel)
    assert client.get("/desk/figures").status_code == 200
    client.force_login(cast.sue)
    page = client.get("/desk/figures").content.decode()
    assert desk.marina.display_name in page and desk.pavel.display_name in page
    client.force_login(cast.alice)
    assert client.get("/desk/figures").status_code == 403


def test_demo_desk_world(db, cast, settings):
    from otklik.demo.scenes_003_desk import load_demo_desk
    from otklik.relationship.calllist import call_list
    from otklik.relationship.selectors import book_managers

    settings.DEBUG = True
    assert load_demo_desk(manager=cast.pavel, book_size=200, now=timezone.now())
    assert not load_demo_desk(manager=cast.pavel, book_size=200)
    items = call_list(managers=book_managers(user=cast.pavel))
    texts = {i.client.last_name: " ".join(r.text for r in i.reasons) for i in items}
    assert "12\u00a0400" in texts["Орлов"] or "12 400" in texts["Орлов"]
    assert "Гордеева" in texts  # onboarding overdue
    # Marina is away and Pavel covers her: her short clients are on his list.
    assert any(i.client.personal_manager.username == "manager2" for i in items)


def test_client_desk_page_ticks_onboarding_records_offers_and_tasks(client, desk, fixed_today):
    from django.urls import reverse

    from otklik.relationship.models import ManagerTask, OfferOutcome, OnboardingStep
    from otklik.relationship.services import onboarding_start

    c = premium_client(desk.pavel, desk.platinum)
    feed(c, "card_spend", "87600")
    feed(c, "salary_credited", 1)
    onboarding_start(clients=[c])
    client.force_login(desk.pavel)
    page = client.get(reverse("relationship:client", args=[c.pk])).content.decode()
    assert "ещё 12\u00a0400 ₽ до бесплатного обслуживания" in page
    assert "Кредитная карта с льготным периодом" in page

    step = OnboardingStep.objects.filter(client=c, code="intro_call").get()
    client.post(reverse("relationship:onboarding_step", args=[step.pk]), {"done": "1"})
    step.refresh_from_db()
    assert step.done_at is not None and step.done_by == desk.pavel

    rule = OfferRule.objects.get(code="credit_card")
    client.post(reverse("relationship:offer", args=[c.pk]), {"rule": rule.pk, "status": "accepted"})
    assert OfferOutcome.objects.get(client=c).status == "accepted"

    client.post(
        reverse("relationship:task_add", args=[c.pk]),
        {"title": "Перезвонить про карту", "due_on": "2026-12-05"},
    )
    task = ManagerTask.objects.get(client=c)
    assert task.manager == desk.pavel and timezone.localtime(task.due_at).day == 5
    client.post(reverse("relationship:task_close", args=[task.pk]))
    task.refresh_from_db()
    assert task.done_at is not None
    # Another manager's client: every write is refused as if it did not exist.
    hers = premium_client(desk.marina, desk.platinum)
    other = premium_client(desk.marina, desk.platinum)
    other.personal_manager = None
    other.save()
    assert client.post(reverse("relationship:task_add", args=[other.pk]), {}).status_code == 404
    assert client.get(reverse("relationship:client", args=[hers.pk])).status_code == 200
