"""Defect 11 in a browser: the department's answer goes into the client answer with one
click, and live toasts about the open case do not cover its panels."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from otklik.accounts.models import Role, User
from otklik.cases.services import interaction_register
from otklik.clients.models import ChannelKind
from otklik.clients.services import client_create
from otklik.handoffs import services
from otklik.live.services import publish
from tests.factories import DepartmentFactory, TeamFactory, UserFactory, make_case

ANSWER = "Ограничение снято, клиент может снова платить картой за рубежом."


def _login(page, url, username):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{url}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_insert_the_departments_answer_and_no_toast_over_this_case(
    live_server, browser_page, artifacts_dir
):
    def setup():
        team = TeamFactory(name="Чат банка")
        security = DepartmentFactory(code="security", name="Служба безопасности")
        UserFactory(username="irina", role=Role.OPERATOR, team=team)
        UserFactory(username="sergey", role=Role.SPECIALIST, department=security)
        irina, sergey = User.objects.get(username="irina"), User.objects.get(username="sergey")
        person = client_create(last_name="Орлова", first_name="Марина", phones=["+79165551234"])
        case = interaction_register(
            actor=irina,
            client=person,
            channel=ChannelKind.CHAT,
            new_case_subject="Оплата за рубежом",
        ).case
        handoff = services.handoff_send(
            actor=irina, case=case, department=security, question="Можно снять ограничение?"
        )
        services.handoff_take(actor=sergey, handoff=handoff)
        services.handoff_answer(actor=sergey, handoff=handoff, answer=ANSWER)
        other = make_case(actor=irina, client=person, subject="Другой вопрос")
        return irina, case, other

    def events():
        publish(user_ids=[irina.pk], kind="note", text="Событие по другому обращению", case=other)
        publish(user_ids=[irina.pk], kind="note", text="Событие по этому обращению", case=case)

    # Services publish live events through Channels' async_to_sync, which refuses to run
    # in the thread that drives Playwright's event loop.
    with ThreadPoolExecutor(1) as pool:
        irina, case, other = pool.submit(setup).result()
        page = browser_page
        _login(page, live_server.url, "irina")
        page.goto(f"{live_server.url}/cases/{case.pk}/")
        page.wait_for_timeout(1000)  # the page has caught up (its first poll)
        pool.submit(events).result()
    # The next poll (every 15 s without a WebSocket) brings both: only the other case toasts.
    page.locator(".live-toast", has_text="по другому обращению").wait_for(timeout=20_000)
    assert page.locator(".live-toast", has_text="по этому обращению").count() == 0

    page.locator("#handoff-panel .insert-answer").click()
    assert page.locator("#message-body").input_value() == ANSWER
    assert page.locator("#message-form input[value=public]").is_checked()
    page.screenshot(path=str(artifacts_dir / "insert-answer.png"), full_page=True)
    page.locator("#message-form button[type=submit]").click()
    page.locator("#timeline", has_text=ANSWER).first.wait_for()
