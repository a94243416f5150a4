"""Story 000 in a real browser: the operator opens the ИИС case, the right procedure is
suggested first, she opens it and pins it to the case."""

import re

import pytest

from otklik.accounts.models import Role
from otklik.cases.models import MessageVisibility
from otklik.cases.services import message_add
from otklik.clients.models import ChannelKind, RestrictionKind
from otklik.clients.services import client_create, product_create, restriction_place
from otklik.knowledge.models import CasePin
from otklik.knowledge.services import seed_procedures
from tests.factories import TeamFactory, TopicFactory, UserFactory, make_case


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_sees_pins_the_frozen_iis_procedure(live_server, browser_page, artifacts_dir):
    seed_procedures()
    operator = UserFactory(
        username="irina",
        first_name="Ирина",
        last_name="Смирнова",
        role=Role.SENIOR_OPERATOR,
        team=TeamFactory(name="Вторая линия"),
    )
    person = client_create(
        last_name="Кузнецов",
        first_name="Игорь",
        patronymic="Валерьевич",
        address_as="Игорь Валерьевич",
        phones=["+7 916 482-17-35"],
    )
    iis = product_create(
        client=person,
        kind="iis",
        name="ИИС (тип 1)",
        number="ИИС-2019/044718",
        details={"iis_type": 1, "deduction_type": "A"},
    )
    opif = product_create(
        client=person,
        kind="fund_units",
        parent=iis,
        name="ОПИФ «Вершина — Глобальные акции»",
        details={"fund_type": "opif", "units": "1250.334211", "frozen": True},
    )
    restriction_place(
        product=opif, kind=RestrictionKind.SANCTIONS_FREEZE, reason="Фонд закрыт из-за санкций"
    )
    case = make_case(
        actor=operator,
        client=person,
        subject="Закрыть ИИС-1: паи ОПИФ заблокированы, вывод недоступен",
        topic=TopicFactory(name="Закрытие ИИС"),
        channel=ChannelKind.PHONE,
    )
    message_add(
        actor=operator,
        case=case,
        visibility=MessageVisibility.INTERNAL,
        body="Клиент хочет вывести деньги к брокеру и закрыть ИИС. Паи ОПИФ заблокированы "
        "(санкции), онлайн-закрытие в ЛК не работает. Ранее дважды отказали.",
    )

    page = browser_page
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "irina")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    first = page.locator("#kb-suggestions .kb-suggestion").first
    first.wait_for()
    title = first.locator(".kb-hit-title")
    assert title.inner_text().startswith("Закрытие ИИС с заблокированными паями")
    assert first.locator("mark").count() >= 2  # highlighted matches

    title.click()
    page.wait_for_url(re.compile(r"/knowledge/a/iis-close-blocked-units/\?case="))
    assert "распоряжени" in page.locator(".kb-steps").inner_text()
    page.screenshot(path=str(artifacts_dir / "knowledge_article.png"), full_page=True)
    page.click(".kb-casebar .kb-pin-btn")
    page.locator(".kb-casebar .kb-pinned-badge").wait_for()
    assert CasePin.objects.filter(case=case, article__slug="iis-close-blocked-units").exists()

    page.click(".kb-casebar a[href*='/cases/']")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    pinned = page.locator("#kb-suggestions .kb-pin a").first
    assert pinned.inner_text().endswith("Закрытие ИИС с заблокированными паями через распоряжение")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "knowledge_suggestions.png"))
