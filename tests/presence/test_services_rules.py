"""presence.services and presence.selectors: drafts are one per user, case and form, kept
and refused as stored; presence entries carry who is typing what, and for how long."""

import pytest

from otklik.cases.services import MAX_BODY
from otklik.common.errors import ServiceError
from otklik.presence import services
from otklik.presence.models import Draft, DraftKind
from otklik.presence.selectors import drafts_for, presence_people, user_present
from otklik.presence.services import (
    TYPING_SECONDS,
    draft_discard,
    draft_save,
    presence_leave,
    presence_scope,
    presence_touch,
)
from otklik.presence.store import get_store
from tests.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(cast):
    return make_case(actor=cast.alice), make_case(actor=cast.alice)


def test_a_draft_is_stored_once_per_user_case_and_form(cast, cases):
    one, two = cases
    draft = draft_save(
        user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="Черновик", visibility="public"
    )
    draft_save(user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="Черновик 2")
    draft_save(user=cast.alice, case=one, kind=DraftKind.PORTAL, body="В кабинет")
    draft_save(user=cast.alice, case=two, kind=DraftKind.MESSAGE, body="Другое")
    draft_save(user=cast.olga, case=one, kind=DraftKind.MESSAGE, body="Чужой")

    stored = Draft.objects.get(pk=draft.pk)
    assert stored.body == "Черновик 2"
    assert stored.visibility == ""  # the later save replaced the visibility too
    assert Draft.objects.count() == 4
    assert [(d.kind, d.body) for d in drafts_for(user=cast.alice, case=one)] == [
        ("message", "Черновик 2"),
        ("portal", "В кабинет"),
    ]
    assert [d.body for d in drafts_for(user=cast.olga, case=one)] == ["Чужой"]
    assert [d.body for d in drafts_for(user=cast.alice, case=two)] == ["Другое"]


def test_a_draft_keeps_its_visibility_and_time(cast, cases):
    one, _two = cases
    draft = draft_save(
        user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="x", visibility="internal"
    )
    stored = Draft.objects.get(pk=draft.pk)
    assert stored.visibility == "internal"
    assert stored.updated_at is not None


def test_an_empty_text_deletes_only_that_draft(cast, cases):
    one, two = cases
    draft_save(user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="a")
    draft_save(user=cast.alice, case=one, kind=DraftKind.PORTAL, body="b")
    draft_save(user=cast.alice, case=two, kind=DraftKind.MESSAGE, body="c")
    draft_save(user=cast.olga, case=one, kind=DraftKind.MESSAGE, body="d")

    assert draft_save(user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="  \n") is None
    assert sorted(Draft.objects.values_list("body", flat=True)) == ["b", "c", "d"]


def test_discard_removes_one_draft_and_says_how_many(cast, cases):
    one, _two = cases
    draft_save(user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="a")
    draft_save(user=cast.olga, case=one, kind=DraftKind.MESSAGE, body="d")
    assert draft_discard(user=cast.alice, case=one, kind=DraftKind.MESSAGE) == 1
    assert draft_discard(user=cast.alice, case=one, kind=DraftKind.MESSAGE) == 0
    assert list(Draft.objects.values_list("body", flat=True)) == ["d"]


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"kind": "letter"}, "kind", "Неизвестный вид черновика."),
        (
            {"visibility": "secret"},
            "visibility",
            "Видимость: внутренняя заметка или ответ клиенту.",
        ),
    ],
)
def test_bad_input_is_refused_and_loses_the_stored_draft_nothing(cast, cases, kwargs, field, text):
    one, _two = cases
    draft_save(user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="Сохранённый")
    params = {"kind": DraftKind.MESSAGE, "body": "Новый", **kwargs}
    with pytest.raises(ServiceError) as caught:
        draft_save(user=cast.alice, case=one, **params)
    assert list(caught.value.message_dict) == [field]
    assert caught.value.message_dict[field] == [text]
    assert Draft.objects.get().body == "Сохранённый"


def test_a_text_over_the_limit_is_refused_with_the_limit_named(cast, cases):
    one, _two = cases
    draft_save(user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="x" * MAX_BODY)
    with pytest.raises(ServiceError) as caught:
        draft_save(user=cast.alice, case=one, kind=DraftKind.MESSAGE, body="x" * (MAX_BODY + 1))
    assert caught.value.message_dict["body"] == [f"Текст длиннее {MAX_BODY} символов."]
    assert Draft.objects.get().body == "x" * MAX_BODY


def test_the_scope_of_a_page():
    assert presence_scope("case", 7) == "case:7"
    assert presence_scope("client", 3) == "client:3"


def test_a_touch_stores_who_and_since_and_typing_for_a_few_seconds(cast, monkeypatch):
    monkeypatch.setattr(services.time, "time", lambda: 1000.0)
    info = presence_touch(scope="case:1", tab="t1", user=cast.alice, typing="note")
    assert info == {
        "since": 1000.0,
        "user": cast.alice.pk,
        "name": cast.alice.display_name,
        "typing": "note",
        "typing_until": 1000.0 + TYPING_SECONDS,
    }
    assert get_store().members("case:1") == {f"{cast.alice.pk}:t1": info}

    # A heartbeat later keeps the arrival time and the typing mark.
    monkeypatch.setattr(services.time, "time", lambda: 1002.0)
    again = presence_touch(scope="case:1", tab="t1", user=cast.alice, previous=info)
    assert again["since"] == 1000.0 and again["typing"] == "note"
    assert info["since"] == 1000.0 and "typing" in info  # the caller's dict is not changed

    # Typing something unknown (the field lost focus) clears the mark.
    cleared = presence_touch(scope="case:1", tab="t1", user=cast.alice, typing="", previous=again)
    assert "typing" not in cleared and "typing_until" not in cleared
    assert get_store().members("case:1")[f"{cast.alice.pk}:t1"] == cleared


def test_leaving_drops_only_that_tab(cast):
    presence_touch(scope="case:1", tab="a", user=cast.alice)
    presence_touch(scope="case:1", tab="b", user=cast.alice)
    presence_touch(scope="case:1", tab="a", user=cast.olga)
    presence_leave(scope="case:1", tab="a", user_id=cast.alice.pk)
    assert set(get_store().members("case:1")) == {f"{cast.alice.pk}:b", f"{cast.olga.pk}:a"}


def test_people_merge_tabs_keep_the_earliest_arrival_and_any_typing(cast):
    s = get_store()
    s.touch("case:9", "x:1", {"user": cast.alice.pk, "name": "Алиса", "since": 50.0})
    s.touch(
        "case:9",
        "x:2",
        {
            "user": cast.alice.pk,
            "name": "Алиса",
            "since": 40.0,
            "typing": "reply",
            "typing_until": 200.0,
        },
    )
    s.touch("case:9", "x:3", {"user": cast.alice.pk, "name": "Алиса", "since": 45.0})
    s.touch("case:9", "y:1", {"user": cast.olga.pk, "name": "Ольга", "since": 42.0})
    s.touch("case:9", "junk", {"user": "nobody", "since": 1.0})
    s.touch("case:9", "z:1", {"user": cast.bob.pk, "since": 42.0})

    people = presence_people(scope="case:9", now=100.0)
    same_time = sorted(
        [
            {"user": cast.olga.pk, "name": "Ольга", "since": 42.0, "typing": ""},
            {"user": cast.bob.pk, "name": "", "since": 42.0, "typing": ""},
        ],
        key=lambda row: row["user"],
    )
    assert people == [
        {"user": cast.alice.pk, "name": "Алиса", "since": 40.0, "typing": "reply"},
        *same_time,
    ]
    # At the very end of the typing mark, it is over.
    assert presence_people(scope="case:9", now=200.0)[0]["typing"] == ""


def test_an_entry_without_since_counts_from_now(cast):
    get_store().touch("case:8", "m:1", {"user": cast.alice.pk, "name": "A"})
    assert presence_people(scope="case:8", now=77.0)[0]["since"] == 77.0


def test_user_present_checks_that_user_on_those_pages(cast):
    presence_touch(scope="case:1", tab="a", user=cast.alice)
    presence_touch(scope="case:2", tab="a", user=cast.olga)
    assert user_present(user_id=cast.alice.pk, scopes=["case:2", "case:1"])
    assert not user_present(user_id=cast.alice.pk, scopes=["case:2"])
    assert not user_present(user_id=cast.bob.pk, scopes=["case:1", "case:2"])
