"""Error pages in the app's layout and language, staff and portal variants."""

import pytest
from django.urls import reverse

from tests.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title", "english"),
    [("ru", "Страница не найдена", "Not Found"), ("en", "Page not found", "Страница")],
)
def test_a_missing_case_is_a_localised_404_in_the_workspace(cast, client, language, title, english):
    client.force_login(cast.alice)
    client.cookies["django_language"] = language
    response = client.get("/cases/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert title in page and english not in page
    assert 'class="mainnav"' in page and cast.alice.display_name in page  # the layout


def test_a_forbidden_staff_page_is_a_403_in_the_workspace(cast, client):
    client.force_login(cast.alice)  # an operator asking for another team's figures
    response = client.get(f"/analytics/?team={cast.team_b.pk}")
    page = response.content.decode()
    assert response.status_code == 403
    assert "Нет доступа" in page and 'class="mainnav"' in page and "Forbidden" not in page


def test_the_portal_gets_its_own_layout(client):
    response = client.get("/portal/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Страница не найдена" in page and 'class="p-top"' in page
    assert "Вернуться в личный кабинет" in page


def test_a_note_of_megabytes_is_a_clear_400_and_the_form_limits_the_length(cast, client):
    case = make_case(actor=cast.alice, subject="Долгая заметка")
    client.force_login(cast.alice)
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    assert 'maxlength="20000"' in page  # the browser stops the paste before any request
    response = client.post(
        reverse("workspace:message_create", args=[case.pk]),
        {"visibility": "internal", "body": "x" * 3_000_000},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "Запрос не удалось обработать" in response.content.decode()
    assert "&#1047;" in response["X-Error-Message"]  # «З…», encoded for the header
    assert not case.messages.exists()


def test_the_500_page_needs_no_database(rf, settings):
    from otklik.common.error_pages import server_error

    request = rf.get("/cases/1/")
    response = server_error(request)
    assert response.status_code == 500 and "Что-то пошло не так" in response.content.decode()
