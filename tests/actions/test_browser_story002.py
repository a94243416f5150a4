"""Story 002 in a real browser: the chat operator lifts what the policy lets her lift in chat.

The fraud-check block is first shown refused (security has not verified the client), the
foreign-operations block is liftable in chat at once, the court-ordered arrest shows
«только по звонку на 900 или в офисе». Security marks the client verified; the operator
lifts the fraud check in the chat and the block disappears from the card.
"""

import re
import threading

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from otklik.accounts.models import Role
from otklik.actions import executors
from otklik.actions.demo import load_demo_actions
from otklik.actions.models import ActionRun, BackofficeOperation
from otklik.cases.services import interaction_register
from otklik.clients.models import Restriction
from otklik.clients.services import client_create, product_create, restriction_place
from otklik.common.luhn import luhn_complete
from otklik.handoffs.services import handoff_send
from tests.factories import DepartmentFactory, TeamFactory, UserFactory

FRAUD = "Снять проверку правомерности операций"
CALL_900 = "только по звонку на 900 или в офисе"


def _login(page, url, username):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{url}/")


def _open(page, url, selector):
    """Go to `url` and wait for `selector`, reloading once.

    On SQLite the live server shares one in-memory connection between its request
    threads; when the page's parallel requests (live events, the knowledge banner, the
    action panels) collide, SQLite answers "bad parameter or other API misuse" and a
    fragment is lost. PostgreSQL runs have no such race; one reload absorbs it here.
    """
    page.goto(url)
    try:
        page.locator(selector).first.wait_for(timeout=8000)
    except PlaywrightTimeout:
        page.goto(url)
        page.locator(selector).first.wait_for()


def _in_thread(func):
    """Run service code off the test thread: it runs Playwright's event loop, where the
    live-event push (async_to_sync) cannot run. The worker runs in its own thread anyway."""
    result = {}

    def target():
        try:
            result["value"] = func()
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return result.get("value")


def _worker_tick():
    _in_thread(executors.deliver_due)


def _deliver_until_done(page, selector, restriction):
    """Play the worker: send due back-office calls until the restriction is lifted, then
    wait for the card to say so: the run's «done», or the product list re-fetched without
    that restriction (the card refreshes its products when an action succeeds)."""
    for _ in range(20):
        _worker_tick()
        restriction.refresh_from_db()
        if restriction.lifted_at is not None:
            break
        page.wait_for_timeout(300)
    assert restriction.lifted_at is not None
    done = page.locator(selector)
    item = page.locator(selector.rsplit(" ", 1)[0])
    for _ in range(50):
        if done.count() or not item.count():
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the card still offers {selector} without showing it done")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_story_002_chat_operator_lifts_what_chat_allows(
    live_server, browser, browser_page, artifacts_dir, settings
):
    settings.OTKLIK_BACKOFFICE_URL = live_server.url + "/actions/demo-backoffice/"
    load_demo_actions()
    chat_team = TeamFactory(name="Чат банка")
    security = DepartmentFactory(code="security", name="Служба безопасности")
    bob = UserFactory(
        username="bob", first_name="Борис", last_name="Чатов", role=Role.OPERATOR, team=chat_team
    )
    UserFactory(
        username="sam",
        first_name="Роман",
        last_name="Тихонов",
        role=Role.SPECIALIST,
        department=security,
    )
    client = client_create(
        last_name="Лебедева",
        first_name="Наталья",
        patronymic="Игоревна",
        phones=["+7 921 635-82-17"],
    )
    card = product_create(
        client=client,
        kind="card",
        name="Дебетовая карта «Мир»",
        status="blocked",
        details={
            "pan": luhn_complete("220015000000000"),
            "payment_system": "Мир",
            "level": "Классическая",
            "expires": "09/28",
        },
    )
    fraud = restriction_place(
        product=card, kind="fraud_check", reason="Оплата 48 900 ₽ в зарубежном магазине"
    )
    foreign = restriction_place(product=card, kind="foreign_operations")
    account = product_create(
        client=client,
        kind="bank_account",
        name="Накопительный счёт",
        number="40817810100006352217",
        details={"currency": "RUB", "balance": "61240.35"},
    )
    restriction_place(product=account, kind="court_order", reason="Исполнительный лист № 2-1187")
    case = interaction_register(
        actor=bob,
        client=client,
        channel="chat",
        new_case_subject="Не могу расплатиться картой за границей",
    ).case
    _in_thread(
        lambda: handoff_send(
            actor=bob,
            case=case,
            department=security,
            question="Клиентка за границей, звонки не доходят. Подтвердите операции.",
        )
    )
    url = live_server.url
    card_url = f"{url}/clients/{client.pk}/?case={case.pk}"

    # The chat operator opens the client's card from the chat case.
    page = browser_page
    _login(page, url, "bob")
    _open(page, card_url, f"#product-actions-{account.pk} .actions-panel")
    card_panel = page.locator(f"#product-actions-{card.pk} .actions-panel")
    card_panel.wait_for()
    assert card_panel.get_attribute("data-channel") == "chat"
    fraud_item = card_panel.locator("li[data-action=lift_fraud_check]")
    assert "action-denied" in fraud_item.get_attribute("class")
    assert fraud_item.locator("button").is_disabled()
    assert "только после того, как СБ отметила клиента проверенным" in fraud_item.inner_text()
    foreign_item = card_panel.locator("li[data-action=lift_foreign_operations]")
    assert "action-allowed" in foreign_item.get_attribute("class")
    court_item = page.locator(f"#product-actions-{account.pk} li[data-action=lift_court_order]")
    court_item.wait_for()
    assert CALL_900 in court_item.inner_text()
    assert court_item.locator("button").is_disabled()
    shot = artifacts_dir / "actions_1_chat_before_verification.png"
    page.screenshot(path=str(shot), full_page=True)

    # Foreign operations: liftable in chat right away.
    foreign_item.locator("button.btn-action").click()
    foreign_item.locator("form.action-form").wait_for()
    foreign_item.locator("textarea[name=comment]").fill("Клиентка за границей, просит снять запрет")
    foreign_item.locator("[data-test=run-action]").click()
    _deliver_until_done(
        page, "li[data-action=lift_foreign_operations] [data-status=succeeded]", foreign
    )
    foreign.refresh_from_db()
    assert foreign.lifted_at is not None

    # Security marks the client verified (from the card the handoff lets them see).
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
    spec = context.new_page()
    spec.set_default_timeout(15_000)
    try:
        _login(spec, url, "sam")
        _open(spec, f"{url}/clients/{client.pk}/", "[data-test=verify-client]")
        verify = spec.locator(f"#product-actions-{card.pk} [data-test=verify-client]")
        verify.click()
        spec.locator(f"#product-actions-{card.pk} .badge-ok").wait_for()
        spec.screenshot(path=str(artifacts_dir / "actions_2_security_verified.png"), full_page=True)
    finally:
        context.close()

    # Back in the chat: the fraud check is now liftable; lift it.
    _open(page, card_url, f"#product-actions-{account.pk} .actions-panel")
    fraud_item = page.locator(f"#product-actions-{card.pk} li[data-action=lift_fraud_check]")
    fraud_item.wait_for()
    assert "action-allowed" in fraud_item.get_attribute("class")
    fraud_item.locator("button.btn-action").click()
    fraud_item.locator("textarea[name=comment]").fill("СБ подтвердила операции, клиентка в чате")
    page.screenshot(path=str(artifacts_dir / "actions_3_chat_lift_form.png"), full_page=True)
    fraud_item.locator("[data-test=run-action]").click()
    _deliver_until_done(page, "li[data-action=lift_fraud_check] [data-status=succeeded]", fraud)
    references = BackofficeOperation.objects.values_list("reference", flat=True)
    assert any(re.fullmatch(r"BO-[0-9A-F]{8}", ref) for ref in references)
    page.screenshot(path=str(artifacts_dir / "actions_4_chat_lifted.png"), full_page=True)

    _open(page, card_url, f"#product-actions-{card.pk} .actions-panel")
    restrictions = page.locator(".restrictions").all_inner_texts()
    assert not any("проверка" in t.lower() for t in restrictions)
    assert page.locator(f"#product-actions-{card.pk} li[data-action=lift_fraud_check]").count() == 0
    page.screenshot(path=str(artifacts_dir / "actions_5_card_after.png"), full_page=True)
    fraud.refresh_from_db()
    assert fraud.lifted_at is not None and fraud.lifted_by == bob
    assert ActionRun.objects.filter(status="succeeded").count() == 2
    assert BackofficeOperation.objects.count() == 2
    assert Restriction.objects.filter(product=account, lifted_at__isnull=True).count() == 1
    assert timezone.now()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_policy_matrix_page(live_server, browser_page, artifacts_dir):
    load_demo_actions()
    UserFactory(username="sue", first_name="Ирина", last_name="Волкова", role=Role.SUPERVISOR)
    page = browser_page
    _login(page, live_server.url, "sue")
    _open(page, f"{live_server.url}/actions/matrix/", "table.matrix")
    table = page.locator("table.matrix")
    assert FRAUD in table.inner_text()
    assert page.locator("td.cell-conditional").count() > 0
    assert page.locator("td.cell-deny").count() > 0
    page.screenshot(path=str(artifacts_dir / "policy_matrix.png"), full_page=True)
