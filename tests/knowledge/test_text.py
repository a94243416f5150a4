"""The text pipeline on its own: normalisation, layout repair, synonyms, highlighting."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otklik.knowledge.text import (
    Analyzer,
    derived,
    en_to_ru,
    fix_layout,
    is_known_word,
    lemma,
    normalize,
    ru_to_en,
)

_EN_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"


def test_yo_and_case_do_not_matter():
    assert normalize("Счёт ЁЛКА") == "счет елка"
    assert lemma(normalize("счёта")) == lemma(normalize("счета")) == "счет"


def test_lemmas_fold_word_forms():
    assert Analyzer.lemmas("заблокированными паями") == ("заблокировать", "пай")
    assert Analyzer.lemmas("как закрыть счёт если") == ("закрыть", "счет")


def test_layout_slip_is_repaired_when_the_converted_word_is_known():
    fixed, fixes = fix_layout("rfr pfrhsnm bbc", lambda w: is_known_word(w) or w == "иис")
    assert fixed == "как закрыть иис"
    assert len(fixes) == 3


def test_real_latin_words_stay():
    fixed, _ = fix_layout("карта mastercard", lambda w: w == "mastercard" or is_known_word(w))
    assert fixed == "карта mastercard"


@given(st.text(alphabet=_EN_KEYS))
def test_layout_conversion_round_trips(text):
    assert ru_to_en(en_to_ru(text)) == text


@given(st.text())
def test_normalisation_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


def test_synonym_phrase_folds_to_canonical_in_queries_and_is_added_in_documents():
    an = Analyzer([["иис", "индивидуальный инвестиционный счёт"], ["лк", "личный кабинет"]])
    assert an.query_terms("закрыть индивидуальный инвестиционный счет") == [
        ("закрыть", "закрыть"),
        ("иис", "индивидуальный инвестиционный счет"),
    ]
    terms = an.index_terms("подпишите в личном кабинете")
    assert "лк" in terms and "кабинет" in terms


def test_highlight_marks_word_forms_and_escapes_html():
    an = Analyzer([["лк", "личный кабинет"]])
    html = an.highlight("<script>alert(1)</script> Подпишите в личном кабинете", {"лк"})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<mark>личном</mark> <mark>кабинете</mark>" in html


def test_highlight_window_keeps_the_matching_part():
    an = Analyzer()
    text = " ".join(["слово"] * 50 + ["паи"] + ["слово"] * 50)
    html = an.highlight(text, {"пай"}, window=10)
    assert "<mark>паи</mark>" in html
    assert html.startswith("…") and html.endswith("…")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("списывать", "списание"),
        ("списание", "списывать"),
        ("закрыть", "закрытие"),
        ("подключение", "подключить"),
    ],
)
def test_verb_and_action_noun_meet(term, expected):
    assert expected in derived(term)


def test_derivation_only_gives_dictionary_words():
    assert derived("карта") == ()
    assert derived("перевести") == ()  # «перевестие» is no word
    assert all(is_known_word(w) for w in derived("пополнить"))
