"""Story 000 end to end in Chromium: closing an ИИС with frozen fund units by an order.

The senior operator drafts the ИИС closure order on the case (fields from the client
card, preview of the document) and sends it for signature; the client logs in to the
portal with phone + one-time code, reads the order and signs it with a code; the workflow
runs (the runner is called here, as the worker would) and the closure notice PDF for the
tax office appears on the order page, while the frozen units' value stays pending.
"""

import re

import pytest

from otklik.notifications.models import Outbox
from otklik.orders import services
from otklik.orders.catalogue import order_templates_ensure
from otklik.orders.models import Order, OrderStatus
from tests.codes import sealed_code
from tests.factories import TeamFactory, UserFactory, make_case
from tests.orders.conftest import make_story_client
from tests.portal.test_browser_story001 import off_loop


def _last_code(prefix: str) -> str:
    sms = Outbox.objects.filter(key__startswith=prefix).latest("id")
    return sealed_code(sms)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_story_000_iis_closure_order_signed_in_the_portal(live_server, browser, artifacts_dir):
    order_templates_ensure()
    team = TeamFactory(name="Брокерское обслуживание")
    senior = UserFactory(
        username="elena",
        first_name="Елена",
        last_name="Соколова",
        role="senior_operator",
        team=team,
    )
    client, _iis = make_story_client()
    case = make_case(
        actor=senior,
        client=client,
        subject="Закрыть ИИС-1: паи ОПИФ заблокированы, вывод недоступен",
    )

    # --- the senior operator drafts the order during the call --------------------------------
    staff = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="ru-RU")
    page = staff.new_page()
    page.set_default_timeout(30_000)  # the first case page loads the knowledge index
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "elena")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    panel = page.locator("#orders")
    if panel.locator("details.order-draft[open]").count() == 0:
        panel.locator("#order-draft-open").click()
    panel.locator("#order-template").select_option("iis_close_frozen")
    assert panel.locator("#order-contract_number").input_value() == "ИИС-2019/044718"
    assert panel.locator("#order-bank_account_number").input_value() == "40817810938000447182"
    panel.locator("#order-note").fill("Закрыть ИИС в этом году: клиенту важен налоговый вычет")
    panel.locator("#order-preview").click()
    page.wait_for_url(re.compile(r"order_template=iis_close_frozen"))
    preview = page.locator("#order-preview-text")
    assert "ОПИФ «Вершина — Глобальные акции»" in preview.inner_text()
    assert "налоговый вычет" in preview.inner_text()
    page.locator("#order-draft-send").click()
    page.wait_for_selector(".order-status-sent_for_signature")
    order = Order.objects.get(case=case)
    assert order.status == OrderStatus.SENT_FOR_SIGNATURE
    page.locator("#orders").screenshot(path=str(artifacts_dir / "order_drafted.png"))
    staff.close()

    # --- the client signs in the personal cabinet ---------------------------------------------
    phone = browser.new_context(
        viewport={"width": 420, "height": 900}, locale="ru-RU", device_scale_factor=2
    )
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/portal/")
    page.fill("#identifier", "8 916 482-17-35")
    page.click(".p-login button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/login/code/$"))
    page.fill("#code", _last_code("portal-login-code:"))
    page.click(".p-login button[type=submit]")
    page.click("a[href='/orders/portal/']")
    page.click(f"a[href='/orders/portal/{order.pk}/']")
    text = page.locator("#order-text").inner_text()
    assert "Кузнецов Игорь Валерьевич" in text and "ИИС-2019/044718" in text
    page.click("#sign-request-code")
    page.wait_for_selector("#sign-code")
    page.fill("#sign-code", "000000" if _last_code("order-signing-code:") != "000000" else "111111")
    page.click("#sign-submit")
    assert "Attempts left" in page.locator("#sign-error").inner_text() or "Осталось" in (
        page.locator("#sign-error").inner_text()
    )
    page.fill("#sign-code", _last_code("order-signing-code:"))
    page.click("#sign-submit")
    page.wait_for_selector("#order-signed")
    order.refresh_from_db()
    assert order.status == OrderStatus.SIGNED and order.document_hash == order.document.sha256

    # --- the workflow runs (what the worker does) ----------------------------------------------
    off_loop(services.workflow_advance, order_id=order.pk)
    page.reload()
    page.wait_for_selector("#closure-notice-link")
    assert page.locator("#step-1.o-step-done").count() == 1
    assert page.locator("#step-4.o-step-waiting").count() == 1
    page.screenshot(path=str(artifacts_dir / "order_signed.png"), full_page=True)
    href = page.locator("#closure-notice-link").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    from tests.orders.conftest import pdf_text

    notice = pdf_text(pdf.body())
    assert "14.03.2019" in notice and "ИИС-2019/044718" in notice
    phone.close()
