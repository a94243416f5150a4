"""In a real browser: the personal manager's morning (story 003).

Евгений opens the call list, sees Константин 12 400 ₽ short of the fee-free criterion
with the days left in the month, calls him, logs the outcome in two clicks and the
client leaves the list; he covers his absent colleague's client (her card names him as
the deputy); the supervisor uploads the back office's CSV with a bad row, which is
refused by its line number with nothing of the file applied.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.relationship.catalogue import desk_rules_ensure
from otklik.relationship.health import days_left_in_month, health_recompute, month_start
from otklik.relationship.models import Absence, CallOutcome, MetricValue
from tests.factories import UserFactory
from tests.relationship.conftest import feed, premium_client


def _login(page, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{url}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manager_morning(live_server, browser_page, artifacts_dir, tmp_path):
    today = timezone.localdate()
    month = month_start(today)
    levels = desk_rules_ensure()
    evgeny = UserFactory(
        username="evgeny", first_name="Евгений", last_name="Ракитин", role=Role.PERSONAL_MANAGER
    )
    marina = UserFactory(
        username="marina", first_name="Марина", last_name="Белова", role=Role.PERSONAL_MANAGER
    )
    UserFactory(username="irina", first_name="Ирина", last_name="Волкова", role=Role.SUPERVISOR)
    Absence.objects.create(
        manager=marina,
        deputy=evgeny,
        starts_on=today - timedelta(days=2),
        ends_on=today + timedelta(days=7),
    )
    orlov = premium_client(
        evgeny, levels["platinum"], last_name="Орлов", first_name="Константин",
        patronymic="Евгеньевич", address_as="Константин",
    )  # fmt: skip
    for code, value in (("card_spend", 87600), ("uses_app", 1), ("salary_credited", 1)):
        feed(orlov, code, value, period=month)
    hers = premium_client(
        marina, levels["platinum"], last_name="Зуева", first_name="Алла", patronymic="Петровна"
    )
    for code, value in (("card_spend", 61000), ("uses_app", 1), ("salary_credited", 1)):
        feed(hers, code, value, period=month)
    happy = premium_client(evgeny, levels["platinum"], last_name="Довольный")
    for code, value in (("card_spend", 150000), ("uses_app", 1), ("salary_credited", 1)):
        feed(happy, code, value, period=month)
    health_recompute()

    page = browser_page
    url = live_server.url
    _login(page, url, "evgeny")
    page.click("a[data-test=nav-desk]")
    page.wait_for_url(re.compile(r"/desk/$"))
    assert "Вы замещаете" in page.content()
    page.click("a[data-test=nav-calls]")
    page.wait_for_url(re.compile(r"/desk/calls$"))

    row = page.locator(f".call-item[data-client='{orlov.pk}']")
    text = row.inner_text()
    assert "ещё 12 400 ₽ до бесплатного обслуживания" in text.replace("\u00a0", " ")
    assert str(days_left_in_month(today)) in text
    assert page.locator(f".call-item[data-client='{happy.pk}']").count() == 0
    page.screenshot(path=str(artifacts_dir / "desk-call-list.png"), full_page=True)

    # Two clicks: «Итог звонка», then «Поговорили»; the row leaves the list.
    row.locator("summary").click()
    row.locator("button[data-outcome=talked]").click()
    row.wait_for(state="detached")
    assert CallOutcome.objects.get(client=orlov).outcome == "talked"
    page.reload()
    assert page.locator(f".call-item[data-client='{orlov.pk}']").count() == 0

    # The absent colleague's client is on his list; her card shows who answers for her.
    theirs = page.locator(f".call-item[data-client='{hers.pk}']")
    assert "Марина Белова" in theirs.inner_text()
    theirs.locator("a.result-name").click()
    page.wait_for_url(re.compile(rf"/clients/{hers.pk}/$"))
    deputy = page.locator("#service-profile [data-test=deputy]")
    assert deputy.inner_text() == "Евгений Ракитин"
    page.screenshot(path=str(artifacts_dir / "desk-covered-client-card.png"), full_page=True)

    # The supervisor's feed upload: line 3 is bad, nothing of the file is applied.
    page.click("form[action='/logout/'] button")
    _login(page, url, "irina")
    page.goto(f"{url}/desk/feed")
    before = MetricValue.objects.count()
    csv_file = tmp_path / "feed.csv"
    csv_file.write_text(
        "client_id,metric,period,value\n"
        f"{orlov.pk},card_spend,{month:%Y-%m},101000\n"
        f"{hers.pk},card_spend,{month:%Y-%m},сто тысяч\n",
        encoding="utf-8",
    )
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("form[enctype] button[type=submit]")
    error = page.locator(".row-errors li[data-line='3']")
    error.wait_for()
    assert "Строка 3" in error.inner_text()
    assert MetricValue.objects.count() == before
    assert MetricValue.objects.get(client=orlov, metric__code="card_spend").value == 87600
    page.screenshot(path=str(artifacts_dir / "desk-feed-rejected.png"), full_page=True)
