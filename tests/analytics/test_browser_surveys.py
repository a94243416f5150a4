"""In a real browser: a supervisor goes from the indicators to the relationship survey,
chooses a business line and a segment, sees how many clients will get it after the
quiet period, sends it, and sees the answers and NPS back on the indicators."""

from datetime import timedelta

import pytest
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.analytics import services
from otklik.analytics.models import NpsSurvey
from otklik.clients.models import ContactPoint, Product
from otklik.notifications.models import Outbox
from tests.factories import ClientFactory, UserFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_supervisor_sends_a_relationship_survey_and_sees_its_nps(
    live_server, browser_page, artifacts_dir
):
    UserFactory(username="olga", first_name="Ольга", last_name="Руднева", role=Role.SUPERVISOR)
    people = []
    for n in range(5):
        person = ClientFactory(segment="premium" if n < 4 else "mass")
        Product.objects.create(client=person, kind="iis", name="ИИС")
        ContactPoint.objects.create(client=person, kind="email", value=f"p{n}@example.ru")
        people.append(person)
    Product.objects.create(client=ClientFactory(segment="premium"), kind="card", name="Карта")
    # Asked three weeks ago after a case: within the quiet period.
    services.nps_survey_send(
        client=people[0],
        channel="email",
        kind="after_case",
        now=timezone.now() - timedelta(days=21),
    )

    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("[data-test=nav-kpi]")
    page.wait_for_selector("#kpis")
    page.click("#to-surveys")
    page.wait_for_selector("#survey-form")
    page.select_option("#s-line", "broker")
    page.select_option("#s-segment", "premium")
    page.select_option("#s-channel", "email")
    page.click("#s-preview")
    page.wait_for_selector("#survey-preview")
    assert page.inner_text("[data-test=matched]") == "4"
    assert page.inner_text("[data-test=quiet]") == "1"
    assert page.inner_text("[data-test=eligible]") == "3"
    page.screenshot(path=str(artifacts_dir / "analytics-survey-preview.png"), full_page=True)
    page.click("#s-send")
    page.wait_for_selector("text=Опрос отправлен клиентам: 3")
    sent = NpsSurvey.objects.filter(kind="relationship")
    assert sent.count() == 3 and Outbox.objects.filter(address__startswith="p").count() == 4

    # Two clients answer: 9 and 10 (promoters), one says 5 (detractor) → NPS 33.
    for survey, score in zip(sent.order_by("pk"), (9, 10, 5), strict=True):
        services.nps_answer(survey=survey, score=score, comment=f"Оценка {score}")
    page.click("[data-test=nav-kpi]")
    page.wait_for_selector("#relationship-nps")
    row = page.inner_text("#relationship-nps tbody tr")
    assert "Брокер" in row and "Премиальный" in row
    assert page.inner_text("#relationship-nps [data-test=answered]") == "3"
    assert page.inner_text("#relationship-nps [data-test=nps]") == "33"
    page.locator("#relationship-nps").screenshot(
        path=str(artifacts_dir / "analytics-survey-nps.png")
    )
