"""The case page of an imported ticket in a real browser: its history and its files."""

from pathlib import Path

import pytest

from otklik.imports.desk_formats import read_zammad
from otklik.imports.desk_import import Mapping, import_tickets
from otklik.imports.models import ImportedRecord
from tests.factories import TeamFactory, UserFactory
from tests.imports.test_desk_import import ZAMMAD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_imported_case_shows_its_history_and_opens_its_file(
    live_server, browser_page, artifacts_dir, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    team = TeamFactory(name="Первая линия")
    TeamFactory(name="Вторая линия")
    UserFactory(username="anna", email="anna.smirnova@bank.example", team=team)
    UserFactory(username="b.kim", email="kim@bank.example")
    mapping = Mapping(
        agents={"boris@old-desk.example": "b.kim"},
        groups={"Users": "Первая линия", "2nd Level": "Вторая линия"},
    )
    assert import_tickets(read_zammad([ZAMMAD]), mapping=mapping).imported == 3
    case_id = ImportedRecord.objects.get(kind="ticket", external_id="101").object_id

    page = browser_page
    page.goto(f"{live_server.url}/cases/{case_id}/")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_selector("#imported-from")
    panel = page.locator("#imported-from")
    assert "Заявка 101 из Zammad" in panel.inner_text()
    assert "Карта отклоняется в магазине" in page.content()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "import-case-page.png"), full_page=True)
    with page.expect_download() as download:
        panel.get_by_text("выписка.pdf").click()
    assert download.value.suggested_filename == "выписка.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
