"""Library pages: only the redacted copy is ever rendered; operators read what is published."""

import pytest
from django.urls import reverse

from otklik.library.models import Story
from tests.library.conftest import CARD, EMAIL, INN, PASSPORT, PHONE, SNILS

pytestmark = pytest.mark.django_db


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def test_the_rendered_story_holds_no_personal_data(client, cast, sensitive_case):
    client.force_login(cast.alice)
    assert client.get(reverse("library:new"), {"case": sensitive_case.pk}).status_code == 403
    client.force_login(cast.sue)
    response = client.post(
        reverse("library:new"),
        {"case": sensitive_case.pk, "kind": "exemplary", "note": "Образец"},
    )
    story = Story.objects.get()
    assert response.status_code == 302
    for user in (cast.sue,):
        client.force_login(user)
        html = client.get(reverse("library:detail", args=[story.pk])).content.decode()
        for secret in (CARD, PASSPORT, PHONE, SNILS, INN, EMAIL, "Орлов", "Викторовн"):
            assert secret not in html
        assert _digits(CARD) not in _digits(html) and _digits(PHONE) not in _digits(html)
    client.force_login(cast.alice)
    assert client.get(reverse("library:detail", args=[story.pk])).status_code == 404
