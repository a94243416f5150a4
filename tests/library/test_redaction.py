"""The library copy keeps nothing personal: checked on the text and on the stored row."""

import pytest

from otklik.common.redaction import anonymise
from otklik.library.models import Story
from otklik.library.redaction import redact_for_library
from otklik.library.services import story_create
from tests.library.conftest import ADDRESS, CARD, EMAIL, INN, PASSPORT, PHONE, SNILS


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"карта {CARD}", "card"),
        ("карта 4276380012345679", "card"),
        ("номер 1234 5678 9012 3456", "number"),  # fails Luhn: hidden anyway
        (f"паспорт {PASSPORT}", "passport"),
        ("данные 4501 123456 верны", None),  # a passport without the word: some kind
        (f"звоните {PHONE}", "phone"),
        ("звоните 8 (916) 555-12-34", "phone"),
        ("звоните 89165551234", "phone"),
        (f"почта {EMAIL}", "email"),
        (f"СНИЛС {SNILS}", "snils"),
        (f"ИНН {INN}", "inn"),
        (f"живёт: г. Москва, {ADDRESS}", "address"),
        ("карта •••• 5679", "number"),  # what an earlier redaction left
    ],
)
def test_each_kind_is_hidden(text, kind):
    clean, counts = anonymise(text)
    assert (kind in counts) if kind else counts, (clean, counts)
    for run in ("4276", "5679", "123456", "555-12-34", "5551234", "orlova", "Тверская", "12345"):
        if run in text:
            assert run not in clean, clean


def test_names_in_any_case_form_and_unknown_names_by_morphology():
    clean, counts = redact_for_library(
        "Орловой Марине позвонил её муж Сергей Петрович Иванов",
        names=("Орлова", "Марина", "Викторовна"),
    )
    for name in ("Орлов", "Марин", "Сергей", "Петрович", "Иванов"):
        assert name not in clean
    assert "муж" in clean and counts["name"] == 5


def test_amounts_stay_unless_asked_and_dates_stay():
    text = "Списали 15 000 ₽ 03.12.2026"
    assert anonymise(text)[0] == text
    assert anonymise(text, amounts=True)[0] == "Списали [сумма] 03.12.2026"


def test_the_stored_copy_has_none_of_it(cast, sensitive_case):
    story = story_create(
        actor=cast.sue,
        kind="exemplary",
        note=f"Хорошо поговорили с {PHONE}",
        case=sensitive_case,
        hide_amounts=True,
    )
    stored = Story.objects.filter(pk=story.pk).values("title", "note", "body", "terms").get()
    text = " ".join(stored.values())
    compact = _digits(text)
    for secret in (CARD, PASSPORT, PHONE, SNILS, INN):
        assert secret not in text and _digits(secret) not in compact
    for word in ("Орлов", "Марин", "Викторовн", "orlova", "Тверск", "1 500"):
        assert word.lower() not in text.lower()
    assert "5679" not in text  # not even the tail the operator's copy keeps
    assert "курьер привезёт карту завтра" in stored["body"]
    # The case itself stored the card as «•••• 5679» (the operator's copy keeps the tail);
    # the library hides that too.
    assert "5679" in sensitive_case.messages.first().body
    assert story.redactions["number"] >= 1 and story.redactions["phone"] >= 2


def test_ordinary_words_about_an_address_are_not_swallowed():
    text = "Быстро исправили адрес, клиент доволен\nКлиент: перезвоните по адресу клиента"
    assert anonymise(text)[0] == text
    subject_then_line = "Карта ушла не по тому адресу\n\nКлиент: паспорт 45 01 123456"
    clean = anonymise(subject_then_line)[0]
    assert clean == "Карта ушла не по тому адресу\n\nКлиент: паспорт [паспорт]"
