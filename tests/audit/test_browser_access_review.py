"""In a real browser: a supervisor finds a client by card number (POST, as you type), sees the
card with numbers masked, shows them in full for a reason, then reviews who read the data."""

import re

import pytest

from otklik.accounts.models import Role
from otklik.audit.models import AuditRecord
from otklik.clients.services import client_create, product_create
from otklik.common.luhn import luhn_complete
from tests.factories import TeamFactory, UserFactory

ACCOUNT = "40817810938000447182"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_masked_card_reveal_and_access_review(live_server, browser_page, artifacts_dir):
    team = TeamFactory(name="Вторая линия")
    operator = UserFactory(
        username="irina", first_name="Ирина", last_name="Смирнова", role=Role.OPERATOR, team=team
    )
    UserFactory(username="olga", first_name="Ольга", last_name="Руднева", role=Role.SUPERVISOR)
    person = client_create(
        last_name="Кузнецов",
        first_name="Александр",
        patronymic="Анатольевич",
        phones=["+7 916 123-45-67"],
    )
    pan = luhn_complete("220015000044718")
    product_create(
        client=person,
        kind="card",
        name="Карта «Мир Premium»",
        details={"pan": pan, "payment_system": "Мир", "level": "Premium", "expires": "08/29"},
    )
    product_create(client=person, kind="bank_account", name="Текущий счёт", number=ACCOUNT)
    AuditRecord.objects.create(actor=operator, action="client.view", client=person, via="api")

    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # Search as you type by the full card number: a POST, the address stays clean.
    page.goto(f"{live_server.url}/clients/search")
    with page.expect_request(lambda r: r.method == "POST" and "/clients/search" in r.url):
        page.fill("input[name=q]", pan)
    result = page.locator("#search-results a.result")
    result.first.wait_for()
    assert pan not in page.url
    result.first.click()
    page.wait_for_url(re.compile(rf"/clients/{person.pk}/$"))

    html = page.content()
    assert pan not in html and ACCOUNT not in html
    assert "•••• 7182" in html and f"{pan[:4]} {pan[4:6]}••" in html
    page.screenshot(path=str(artifacts_dir / "client-card-masked.png"), full_page=True)

    page.click("details.reveal summary")
    page.fill("#reveal-reason", "Заявление на чарджбэк по платежу от 12.11")
    page.click(".reveal-form button[type=submit]")
    page.locator(".identifiers-full").wait_for()
    assert pan in page.locator(".identifiers-full").inner_text()
    page.screenshot(path=str(artifacts_dir / "client-card-revealed.png"), full_page=True)

    page.click(f"a[href='/audit/access/?client={person.pk}']")
    page.wait_for_url(re.compile(r"/audit/access/"))
    rows = page.locator("table.access-log tbody tr")
    text = page.locator("table.access-log").inner_text()
    assert rows.count() >= 3
    assert "Ирина Смирнова" in text and "Ольга Руднева" in text
    page.screenshot(path=str(artifacts_dir / "access-review.png"), full_page=True)
