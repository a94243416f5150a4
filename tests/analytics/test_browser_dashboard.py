"""In a real browser: a supervisor opens the indicators, changes the period and a filter,
drills from a number to its cases, and downloads the XLSX (read back with openpyxl)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.analytics import rollups
from tests.analytics.builders import raw_case, raw_contact, raw_csi
from tests.factories import ClientFactory, TeamFactory, TopicFactory, UserFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_supervisor_dashboard_period_filter_drill_and_xlsx(
    live_server, browser_page, artifacts_dir
):
    from openpyxl import load_workbook

    chat_team, phone_team = TeamFactory(name="Чат банка"), TeamFactory(name="Вторая линия")
    UserFactory(
        username="olga",
        first_name="Ольга",
        last_name="Руднева",
        role=Role.SUPERVISOR,
        team=chat_team,
    )
    irina = UserFactory(username="irina", first_name="Ирина", last_name="Смирнова", team=chat_team)
    topic = TopicFactory(name="Блокировка карты")
    now = timezone.now()
    for day in range(20):
        at = now - timedelta(days=day, hours=1)
        for n in range(1 + day % 3):
            case = raw_case(
                client=ClientFactory(),
                team=chat_team,
                owner=irina,
                topic=topic,
                channel="chat" if n else "phone",
                created=at,
                resolved=at + timedelta(minutes=20),
                subject=f"Карта заблокирована {day}-{n}",
            )
            raw_contact(case, at=at, operator=irina, talk=200 + 30 * n, wrap=40, queue=5 + 10 * n)
            raw_csi(case, score=5 - (day + n) % 3, at=at + timedelta(minutes=30))
    other = raw_case(
        client=ClientFactory(),
        team=phone_team,
        created=now - timedelta(hours=2),
        subject="Чужая команда",
    )
    raw_contact(other, at=other.created_at, talk=50)
    rollups.rebuild(since=now - timedelta(days=40), now=now)

    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("[data-test=nav-kpi]")
    page.wait_for_selector("#kpis")
    week = int(page.inner_text("[data-test=drill-contacts]"))
    assert week == sum(1 + d % 3 for d in range(7))
    assert page.locator("svg.chart title").count() >= 6
    page.screenshot(path=str(artifacts_dir / "analytics-dashboard.png"), full_page=True)

    # The period: 30 days, compared with the 30 before; then only the chat channel.
    page.select_option("#f-period", "month")
    page.check("#f-compare")
    page.click("#f-apply")
    page.wait_for_url("**period=month**")
    assert int(page.inner_text("[data-test=drill-contacts]")) == sum(1 + d % 3 for d in range(20))
    assert "раньше" in page.inner_text("#kpis")
    page.select_option("#f-channel", "chat")
    page.click("#f-apply")
    page.wait_for_url("**channel=chat**")
    chats = int(page.inner_text("[data-test=drill-contacts]"))
    assert chats == sum(d % 3 for d in range(20))
    # The table toggle shows the chart's numbers.
    page.click("#fig-contacts summary")
    assert page.locator("#fig-contacts table tbody tr").count() == 30

    # Drill from the number to its cases.
    page.click("[data-test=drill-contacts]")
    page.wait_for_selector("#drill-cases")
    assert f"{chats} обращ" in page.inner_text("main")
    assert "Чужая команда" not in page.content()
    page.screenshot(path=str(artifacts_dir / "analytics-drill.png"), full_page=True)

    # Download the XLSX of the cases and read it back.
    with page.expect_download() as download:
        page.click("[data-test=export-cases-xlsx]")
    path = artifacts_dir / "analytics-cases.xlsx"
    download.value.save_as(str(path))
    book = load_workbook(path, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert ("Канал", "Чат") in [r[:2] for r in rows]
    cases = [r for r in rows if r and isinstance(r[0], str) and r[0].startswith("№")]
    assert len(cases) == chats and all(r[3] == "chat" for r in cases)
