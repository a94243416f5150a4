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


def _translations_by_key() -> dict[tuple, dict[str, str]]:
    found: dict[tuple, dict[str, str]] = {}
    for path in RU_CATALOGUES:
        for entry in polib.pofile(str(path)):
            if entry.obsolete:
                continue
            key = (entry.msgctxt, entry.msgid, entry.msgid_plural)
            text = entry.msgstr or repr(sorted(entry.msgstr_plural.items()))
            found.setdefault(key, {})[path.parts[-5]] = text
    return found


def test_no_msgid_is_translated_differently_in_two_catalogues():
    """Django merges the apps' catalogues into one: of two translations of the same msgid
    only one shows, everywhere (a loan's rate read «Курс», the mail panel's heading the
    clients app's «E-mail»). Different meanings need a msgctxt (pgettext)."""
    clashes = {
        key[1] if key[0] is None else f"{key[0]}|{key[1]}": apps
        for key, apps in _translations_by_key().items()
        if len(set(apps.values())) > 1
    }
    assert not clashes, f"{len(clashes)} msgids translated differently: {clashes}"


@override_settings(LANGUAGE_CODE="ru")
def test_meanings_told_apart_by_context_show_their_own_russian():
    with translation.override("ru"):
        assert translation.pgettext("case", "Owner") == "Ответственный"
        assert translation.pgettext("document", "Owner") == "Владелец"
        assert translation.pgettext("channel", "E-mail") == "Почта"
        assert translation.pgettext("points", "score") == "балл"
        assert translation.pgettext("handoff", "Sent") == "Отправлен"
        assert translation.gettext("Sent") == "Отправлено"
        assert translation.pgettext("call", "Answered") == "Отвечено"
