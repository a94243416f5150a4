"""Russian is the default UI language: every catalogue string must have a Russian translation."""

from pathlib import Path

import polib
import pytest
from django.test import override_settings
from django.utils import translation

SRC = Path(__file__).resolve().parents[2] / "src" / "otklik"
RU_CATALOGUES = sorted(SRC.glob("*/locale/ru/LC_MESSAGES/django.po"))


def test_there_are_russian_catalogues():
    assert len(RU_CATALOGUES) >= 5


@pytest.mark.parametrize("path", RU_CATALOGUES, ids=lambda p: p.parts[-5])
def test_catalogue_is_fully_translated(path):
    po = polib.pofile(str(path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated in {path}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {path}: {fuzzy[:10]}"


@override_settings(LANGUAGE_CODE="ru")
def test_compiled_catalogue_is_used():
    from otklik.cases.models import CaseStatus

    with translation.override("ru"):
        assert str(CaseStatus.WAITING_DEPARTMENT.label) == "Ждёт подразделение"
    with translation.override("en"):
        assert str(CaseStatus.WAITING_DEPARTMENT.label) == "Waiting for department"
