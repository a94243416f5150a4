"""Story 002 in a real browser: the chat operator asks security; security answers through the case.

The client is abroad and calls from short numbers do not reach her; the chat is the only
live channel. The security specialist sees that on the handoff and answers via the case.
"""

import re

import pytest
from django.utils import timezone

from otklik.accounts.models import Department, Role, User
from otklik.cases.models import Message
from otklik.cases.services import interaction_register
from otklik.clients.models import ChannelKind
from otklik.clients.services import client_create
from otklik.handoffs.models import Handoff
from tests.factories import DepartmentFactory, TeamFactory, UserFactory

ABROAD = "за границей: входящие с коротких номеров не проходят"


def _login(page, url, username):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{url}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chat_operator_asks_security_and_gets_the_answer(
    live_server, browser, browser_page, artifacts_dir
):
    chat_team = TeamFactory(name="Чат банка")
    security = DepartmentFactory(code="security", name="Служба безопасности")
    DepartmentFactory(code="treasury", name="Казначейство")
    UserFactory(
        username="irina",
        first_name="Ирина",
        last_name="Смирнова",
        role=Role.OPERATOR,
        team=chat_team,
    )
    UserFactory(
        username="sergey",
        first_name="Сергей",
        last_name="Волков",
        role=Role.SPECIALIST,
        department=security,
    )
    irina = User.objects.get(username="irina")
    person = client_create(
        last_name="Орлова",
        first_name="Марина",
        patronymic="Викторовна",
        phones=["+7 916 555-12-34"],
    )
    chat = interaction_register(
        actor=irina,
        client=person,
        channel=ChannelKind.CHAT,
        new_case_subject="Не проходит оплата картой за границей",
    )
    case = chat.case
    url = live_server.url

    # The chat operator records why calls do not reach the client and asks security.
    page = browser_page
    _login(page, url, "irina")
    page.goto(f"{url}/cases/{case.pk}/")
    panel = page.locator("#handoff-panel")
    panel.locator("summary", has_text="Как связаться с клиентом").click()
    form = panel.locator(".reach-form").first
    form.locator("select[name=reachability]").select_option("limited")
    form.locator("input[name=note]").fill(ABROAD)
    form.locator("button[type=submit]").click()
    panel.locator(".reach-note", has_text=ABROAD).wait_for()
    panel.locator("summary", has_text="Спросить подразделение").click()
    page.select_option("#handoff-department", label="Служба безопасности")
    page.fill(
        "#handoff-question",
        "Карта заблокирована на проверку. Клиентка за границей, звонки с коротких номеров "
        "до неё не доходят — дозвониться не сможете. Она сейчас со мной в чате.",
    )
    page.screenshot(path=str(artifacts_dir / "handoff_1_operator_sends.png"), full_page=True)
    page.click("#handoff-send-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    banner = page.locator(".handoff-banner")
    banner.wait_for()
    assert "Служба безопасности" in banner.inner_text()
    assert page.locator("#case-status").get_attribute("class") == "badge status-waiting_department"
    handoff = Handoff.objects.get(case=case)
    assert handoff.department == security

    # Security: the queue shows it with time left; the handoff shows how to reach the client.
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
    spec = context.new_page()
    spec.set_default_timeout(15_000)
    try:
        _login(spec, url, "sergey")
        spec.click("nav.mainnav >> text=Запросы подразделений")
        spec.wait_for_url(f"{url}/handoffs/")
        row = spec.locator(f"tr[data-handoff='{handoff.pk}']")
        row.wait_for()
        left = row.locator("td.handoff-left").inner_text().strip()
        assert left and left != "—"
        spec.screenshot(path=str(artifacts_dir / "handoff_2_department_queue.png"), full_page=True)
        row.locator("a").first.click()
        spec.wait_for_url(re.compile(rf"/handoffs/{handoff.pk}/$"))
        reach = spec.locator(".reach-panel")
        assert ABROAD in reach.inner_text()
        start = timezone.localtime(chat.started_at).strftime("%H:%M")
        assert f"в чате с оператором Ирина Смирнова с {start}" in reach.inner_text()
        spec.click("#take-btn")
        spec.locator("#handoff-status", has_text="Взят").wait_for()
        spec.fill(
            "#answer-text",
            "Сделали пометку на особый порядок разблокировки. Пусть клиентка сама позвонит "
            "на 900 — сотрудники ждут её звонка.",
        )
        spec.screenshot(
            path=str(artifacts_dir / "handoff_3_specialist_answers.png"), full_page=True
        )
        spec.click("#answer-btn")
        spec.locator("#handoff-answer").wait_for()
    finally:
        context.close()

    # The operator sees the answer on the case and passes it on in the chat.
    page.goto(f"{url}/cases/{case.pk}/")
    page.locator("#timeline .msg-internal", has_text="позвонит на 900").wait_for()
    answered = page.locator(f"#handoff-{handoff.pk}")
    assert "позвонит на 900" in answered.locator(".handoff-answer").inner_text()
    assert page.locator(".handoff-banner").count() == 0
    assert page.locator("#case-status").get_attribute("class") == "badge status-in_progress"
    page.screenshot(path=str(artifacts_dir / "handoff_4_operator_sees_answer.png"), full_page=True)
    assert Message.objects.filter(case=case, body__contains="позвонит на 900").count() == 1
    assert Department.objects.count() == 2
