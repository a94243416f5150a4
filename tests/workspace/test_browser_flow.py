"""End to end in a real browser: an operator takes a call, finds the client, answers."""

import re

import pytest

from otklik.accounts.models import Role
from otklik.cases.models import Message, MessageVisibility
from otklik.clients.models import ChannelKind, ContactPoint, Reachability, RestrictionKind
from otklik.clients.services import client_create, product_create, restriction_place
from tests.factories import TeamFactory, TopicFactory, UserFactory, make_case


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_finds_client_by_phone_and_replies(live_server, browser_page, artifacts_dir):
    team = TeamFactory(name="Вторая линия")
    operator = UserFactory(
        username="irina", first_name="Ирина", last_name="Смирнова", role=Role.OPERATOR, team=team
    )
    person = client_create(
        last_name="Кузнецов",
        first_name="Александр",
        patronymic="Анатольевич",
        segment="premium",
        address_as="Александр Анатольевич",
        preferences="Предпочитает ЛК; звонить после 18:00.",
        phones=["+7 916 123-45-67"],
        emails=["a.kuznetsov@example.ru"],
    )
    ContactPoint.objects.filter(client=person, kind=ChannelKind.PHONE).update(
        reachability=Reachability.LIMITED,
        reachability_note="за границей: звонки с коротких номеров не проходят",
    )
    iis = product_create(
        client=person,
        kind="iis",
        name="ИИС «Стратегия»",
        number="ИИС-204417",
        details={"iis_type": 2, "deduction_type": "A"},
    )
    units = product_create(
        client=person,
        kind="fund_units",
        name="ОПИФ «Облигации»",
        parent=iis,
        details={"fund_type": "opif", "units": "152.314", "frozen": True, "value_rub": "48210.50"},
    )
    restriction_place(
        product=units,
        kind=RestrictionKind.SANCTIONS_FREEZE,
        reason="Паи заблокированы депозитарием",
    )
    case = make_case(
        actor=operator,
        client=person,
        subject="Закрыть ИИС и вывести деньги",
        topic=TopicFactory(name="Закрытие ИИС"),
        channel=ChannelKind.PHONE,
    )

    page = browser_page
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "irina")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.screenshot(path=str(artifacts_dir / "queue.png"))

    # The call comes in: type the number the way the client says it, results appear live.
    page.fill("#incoming-q", "8 (916) 123-45-67")
    result = page.locator("#incoming-results a.result")
    result.first.wait_for()
    assert "Кузнецов" in result.first.inner_text()
    result.first.click()
    page.wait_for_url(re.compile(rf"/clients/{person.pk}/$"))
    assert page.locator(".greeting-name").inner_text() == "Александр Анатольевич"
    assert page.locator(".product .tag-fund").first.inner_text() == "ОПИФ"
    assert page.locator(".products.nested .badge-danger").count() >= 1  # frozen units
    page.click("a.channel-btn[data-channel=chat]")  # intake form opens inline (htmx)
    page.locator("#intake-form input[name=subject]").wait_for()
    page.screenshot(path=str(artifacts_dir / "client_card.png"), full_page=True)

    page.click(f"a[href='/cases/{case.pk}/']")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    page.evaluate("window.__noReload = true")

    page.click("#message-form button[type=submit]")  # empty: the service's refusal is shown
    page.locator("#message-form .error").wait_for()
    page.click("label.vis-public")
    reply = "Александр Анатольевич, паи разблокируют после ответа депозитария; ответ придёт в ЛК."
    page.fill("#message-body", reply)
    page.click("#message-form button[type=submit]")
    page.locator("#timeline .msg-public .msg-body", has_text="паи разблокируют").wait_for()

    assert page.evaluate("window.__noReload") is True  # htmx swapped, no full reload
    assert page.input_value("#message-body") == ""  # the form is fresh for the next message
    # The header is swapped out of band in the same response; wait for it, not for luck.
    page.locator("#case-status.status-in_progress").wait_for(timeout=5000)
    assert page.locator("#case-status").get_attribute("class") == "badge status-in_progress"
    page.screenshot(path=str(artifacts_dir / "case_page.png"), full_page=True)

    message = Message.objects.get(case=case)
    assert (message.body, message.visibility, message.author_id) == (
        reply,
        MessageVisibility.PUBLIC,
        operator.pk,
    )
