"""Story 001 end to end in Chromium: «ответ в ЛК в течение суток» instead of "call us back".

The operator promises the answer in the personal cabinet, the legal department answers
the handoff, the operator posts the portal answer, and the client logs in to the portal
with phone + one-time code, sees the answer marked new, reads it and rates it.
"""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from otklik.accounts.models import Role
from otklik.cases.models import CaseStatus
from otklik.clients.models import ChannelKind
from otklik.clients.services import client_create
from otklik.handoffs.services import handoff_answer, handoff_send
from otklik.notifications.models import Outbox
from otklik.portal.models import CsiRating, PortalAnswer
from otklik.sla.models import Deadline
from tests.codes import sealed_code
from tests.factories import DepartmentFactory, TeamFactory, TopicFactory, UserFactory, make_case

ANSWER = (
    "Дмитрий Павлович, юридический отдел ответил: по делу 2-3187/2025 заявлено 38 640 ₽, "
    "заседание назначено на 14 число. Погасить долг до решения суда можно — без судебных "
    "расходов."
)


def off_loop(fn, **kwargs):
    """Run a service outside Playwright's event loop: services that publish live events
    push them with async_to_sync after commit, which refuses to run inside a running loop."""

    def call():
        try:
            return fn(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_story_001_answer_in_the_personal_cabinet(live_server, browser, artifacts_dir):
    team = TeamFactory(name="МФО: линия")
    legal = DepartmentFactory(code="legal", name="Юридический отдел")
    operator = UserFactory(
        username="darya", first_name="Дарья", last_name="Полякова", role=Role.OPERATOR, team=team
    )
    lawyer = UserFactory(
        username="pavel",
        first_name="Павел",
        last_name="Гордеев",
        role=Role.SPECIALIST,
        department=legal,
    )
    borrower = client_create(
        last_name="Соколов",
        first_name="Дмитрий",
        patronymic="Павлович",
        address_as="Дмитрий Павлович",
        phones=["+7 912 574-03-61"],
        emails=["d.sokolov88@example.com"],
    )
    case = make_case(
        actor=operator,
        client=borrower,
        subject="Сумма долга и стадия судебного взыскания по займу",
        topic=TopicFactory(name="Судебное взыскание"),
        channel=ChannelKind.PHONE,
    )
    handoff = off_loop(
        handoff_send,
        actor=operator,
        case=case,
        department=legal,
        question="Дело 2-3187/2025: какая сумма в иске и можно ли погасить до решения?",
    )

    # --- the operator, during the call: «ответим в ЛК в течение суток» -----------------------
    staff = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
    page = staff.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "darya")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.click("#portal-promise")
    page.locator("#portal-due").wait_for()
    assert "Ответ в ЛК обещан до" in page.locator(".flash").inner_text()
    page.locator("#portal").screenshot(path=str(artifacts_dir / "portal_promise.png"))
    deadline = Deadline.objects.get(case=case, kind="portal_answer", met_at__isnull=True)
    assert (deadline.due_at - deadline.started_at).total_seconds() == 24 * 3600
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_DEPARTMENT

    # --- the legal department answers the handoff ---------------------------------------------
    off_loop(
        handoff_answer, actor=lawyer, handoff=handoff, answer="Иск на 38 640 ₽, заседание 14-го."
    )

    # --- the operator posts the answer to the personal cabinet --------------------------------
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.fill("#portal-answer-body", ANSWER)
    page.click("#portal-answer-send")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/"))
    assert "клиент уведомлён" in page.locator(".flash").inner_text()
    page.screenshot(path=str(artifacts_dir / "portal_answer_operator.png"), full_page=True)
    answer = PortalAnswer.objects.get(case=case)
    assert answer.on_time
    assert sorted(
        Outbox.objects.filter(case=case, client=borrower).values_list("channel", flat=True)
    ) == ["email", "sms"]
    staff.close()

    # --- the client, on a phone: log in with a one-time code ----------------------------------
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ru-RU", is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/portal/")
    page.wait_for_url(re.compile(r"/portal/login/$"))
    page.fill("#identifier", "8 912 574-03-61")
    page.screenshot(path=str(artifacts_dir / "portal_login.png"))
    page.click(".p-login button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/login/code/$"))
    sms = Outbox.objects.filter(key__startswith="portal-login-code:").latest("id")
    assert sms.channel == "sms" and sms.address == "+79125740361"
    code = sealed_code(sms)
    page.fill("#code", code)
    page.click(".p-login button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/cases/$"))

    row = page.locator(".p-case", has_text="Сумма долга")
    assert "p-case-unread" in row.get_attribute("class")
    assert row.locator(".p-badge-new").inner_text() == "1 новый ответ"
    assert row.locator(".p-status").inner_text() == "Ответ готов"
    page.screenshot(path=str(artifacts_dir / "portal_cases.png"), full_page=True)

    row.locator("a").click()
    page.wait_for_url(re.compile(rf"/portal/cases/{case.pk}/$"))
    message = page.locator(f"#message-{answer.message_id}")
    assert "38 640 ₽" in message.locator(".p-msg-body").inner_text()
    assert message.locator(".p-author").inner_text() == "Дарья"  # first name only
    assert "p-msg-unread" in message.get_attribute("class")
    assert "Иск на 38 640 ₽, заседание 14-го." not in page.content()  # internal handoff text
    page.screenshot(path=str(artifacts_dir / "portal_answer.png"), full_page=True)

    message.locator("label.p-star", has_text="5").click()
    message.locator("textarea[name=comment]").fill("Спасибо, что не пришлось перезванивать!")
    message.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/portal/cases/{case.pk}/#message-{answer.message_id}$"))
    assert page.locator(".p-flash").inner_text() == "Спасибо за оценку!"
    assert page.locator(f"#message-{answer.message_id} .p-rated").inner_text() == "Оценка: 5 из 5"
    page.screenshot(path=str(artifacts_dir / "portal_rated.png"), full_page=True)
    phone.close()

    rating = CsiRating.objects.get()
    assert (rating.score, rating.comment, rating.client_id, rating.message_id) == (
        5,
        "Спасибо, что не пришлось перезванивать!",
        borrower.pk,
        answer.message_id,
    )
