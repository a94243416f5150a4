"""The case history speaks the reader's language: no raw field names, no English kinds."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from otklik.cases.labels import EVENT_FIELD_LABELS
from otklik.cases.models import CaseEvent, EventKind
from tests.factories import make_case

SRC = Path(__file__).resolve().parents[2] / "src" / "otklik"


def _fields_recorded_by(app: str) -> set[str]:
    """Literal field names passed to an app's `_case_event(case, actor, "field", ...)`."""
    found = set()
    for path in (SRC / app).rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'_case_event\(\s*[\w.]+,\s*\w+,\s*"(\w+)"', text))
    return found


def test_every_order_history_field_has_a_russian_label():
    fields = _fields_recorded_by("orders")
    assert {"order", "order_sent", "order_signed", "order_closure_notice"} <= fields
    missing = fields - set(EVENT_FIELD_LABELS)
    assert not missing, f"history fields without a label: {missing}"
    with translation.override("ru"):
        for field in fields:
            label = str(EVENT_FIELD_LABELS[field])
            assert re.search("[а-я]", label) and "_" not in label, label


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_case_page_shows_order_stages_in_words(cast, client, language):
    case = make_case(actor=cast.alice, subject="Закрыть ИИС")
    for field in ("order", "order_sent", "order_signed", "order_closure_notice"):
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.FIELD_CHANGED,
            field=field,
            new_value="Р-1",
            created_at=timezone.now(),
        )
    client.force_login(cast.alice)
    client.cookies["django_language"] = language
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    for raw in ("order_sent", "order_signed", "order_closure_notice", ": order<"):
        assert raw not in page
    if language == "ru":
        assert "распоряжение подписано клиентом" in page and "Field changed" not in page
    else:
        assert "order signed by the client" in page
