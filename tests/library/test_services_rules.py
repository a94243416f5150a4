"""library.services and library.selectors, rule by rule: every refusal with a user who must
be refused and its wording, the stored rows reloaded, who is told about an assignment and
what, and which stories each member of staff sees."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.common.errors import NotAllowed, ServiceError
from otklik.library.models import Story, StoryAssignment, StoryStatus
from otklik.library.selectors import (
    assignment_of,
    assignment_progress,
    assignments_for,
    can_curate,
    story_get_for_user,
    story_search,
)
from otklik.library.services import (
    story_acknowledge,
    story_assign,
    story_create,
    story_publish,
    story_redact_more,
    story_withdraw,
)
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox
from tests.factories import TopicFactory, UserFactory
from tests.quality.conftest import make_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(cast, sensitive_case):
    return story_create(
        actor=cast.sue, kind="exemplary", note="Спокойно и по делу", case=sensitive_case
    )


def _message(error) -> dict:
    return {k: [str(m) for m in v] for k, v in error.message_dict.items()}


# --- marking a story -----------------------------------------------------------------------


def test_the_stored_story_is_the_redacted_copy_with_its_source(cast, sensitive_case):
    when = timezone.now() - timedelta(days=1)
    story = story_create(
        actor=cast.sue,
        kind="lesson",
        note="  Орлова ждала три дня  ",
        case=sensitive_case,
        title="  Орлова и курьер  ",
        product_kind="card",
        hide_amounts=True,
        now=when,
    )
    stored = Story.objects.get(pk=story.pk)
    assert stored.kind == "lesson"
    assert stored.status == StoryStatus.DRAFT
    assert stored.title == "[имя] и курьер"
    assert stored.note == "[имя] ждала три дня"
    assert "Орлова" not in stored.body and "1 500" not in stored.body
    assert "Сотрудник: [имя] [имя], курьер привезёт карту завтра" in stored.body
    assert stored.topic == sensitive_case.topic
    assert stored.product_kind == "card"
    assert stored.hide_amounts is True
    assert stored.source_case == sensitive_case and stored.source_conversation is None
    assert stored.created_by == cast.sue and stored.created_at == when
    assert stored.redactions["name"] >= 3 and stored.redactions["amount"] >= 1
    assert "курьер" in stored.terms.split()


def test_without_a_title_the_cases_subject_is_used_redacted(cast, sensitive_case):
    story = story_create(actor=cast.sue, kind="exemplary", note="x", case=sensitive_case)
    assert Story.objects.get(pk=story.pk).title == "[имя]: карта уехала не по тому адресу"
    assert "1 500" in Story.objects.get(pk=story.pk).body  # amounts stay unless asked


def test_a_story_from_a_chat_without_a_case(cast):
    chat = make_chat(
        operator=cast.alice,
        lines=[("visitor", "Карта не работает"), ("operator", "Сейчас проверю")],
    )
    story = story_create(actor=cast.sue, kind="exemplary", note="Быстро", conversation=chat)
    stored = Story.objects.get(pk=story.pk)
    assert stored.title == "Чат"
    assert stored.source_conversation == chat and stored.source_case is None
    assert stored.topic is None
    assert "Карта не работает" in stored.body and "Сейчас проверю" in stored.body


def test_a_chat_that_became_a_case_is_written_up_from_the_case(cast, sensitive_case):
    chat = make_chat(operator=cast.alice, lines=[("visitor", "Только в чате")])
    chat.case = sensitive_case
    chat.save(update_fields=["case"])
    story = story_create(actor=cast.sue, kind="exemplary", note="x", conversation=chat)
    stored = Story.objects.get(pk=story.pk)
    assert stored.source_case == sensitive_case and stored.source_conversation is None
    assert "Только в чате" not in stored.body and "курьер" in stored.body


@pytest.mark.parametrize("who", ["alice", "olga", "bob", "sam", "pavel"])
def test_only_supervisors_mark_stories(cast, sensitive_case, who):
    with pytest.raises(NotAllowed) as caught:
        story_create(actor=getattr(cast, who), kind="lesson", note="x", case=sensitive_case)
    assert caught.value.messages == ["Добавлять истории в библиотеку может только супервизор."]
    assert not Story.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"kind": "gossip"}, {"kind": ["Образцовая история или урок?"]}),
        ({"note": " \n"}, {"note": ["Напишите в двух словах, чем история полезна."]}),
        ({"note": None}, {"note": ["Напишите в двух словах, чем история полезна."]}),
        ({"product_kind": "yacht"}, {"product_kind": ["Неизвестный продукт."]}),
        ({"case": None}, {"source": ["Выберите обращение или чат."]}),
    ],
)
def test_bad_input_is_refused_in_words(cast, sensitive_case, kwargs, expected):
    params = {"kind": "lesson", "note": "Почему", "case": sensitive_case, **kwargs}
    with pytest.raises(ServiceError) as caught:
        story_create(actor=cast.sue, **params)
    assert _message(caught.value) == expected
    assert not Story.objects.exists()


def test_an_inactive_supervisor_curates_nothing(cast):
    assert can_curate(cast.sue) is True
    assert can_curate(UserFactory(username="adm", role=Role.ADMIN)) is True
    cast.sue.is_active = False
    assert can_curate(cast.sue) is False
    assert can_curate(cast.olga) is False


# --- review --------------------------------------------------------------------------------


def test_hiding_more_reaches_title_note_and_body_in_any_letter_case(cast, story):
    story_redact_more(
        actor=cast.sue, story=story, fragments=["  СПОКОЙНО ", "курьер", "x", " "], title=None
    )
    stored = Story.objects.get(pk=story.pk)
    assert "Спокойно" not in stored.note and stored.note.startswith("[скрыто]")
    assert "курьер" not in stored.body.lower()
    assert stored.redactions["manual"] == 2  # one in the note, one in the body
    assert "курьер" not in stored.terms.split()
    # The earlier automatic counts are kept.
    assert stored.redactions["name"] == story.redactions["name"]


def test_a_new_title_is_redacted_and_a_topic_set(cast, story):
    topic = TopicFactory(name="Курьеры")
    story_redact_more(
        actor=cast.sue,
        story=story,
        fragments=[],
        title=f"  Звонок с {'+7 916 555-12-34'}  ",
        topic=topic,
    )
    stored = Story.objects.get(pk=story.pk)
    assert stored.title == "Звонок с [телефон]"
    assert stored.topic == topic
    assert "manual" not in stored.redactions
    # An empty title leaves it.
    story_redact_more(actor=cast.sue, story=story, fragments=[], title="  ")
    assert Story.objects.get(pk=story.pk).title == "Звонок с [телефон]"


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (
            lambda a, s: story_redact_more(actor=a, story=s, fragments=["x"]),
            "Проверяет истории только супервизор.",
        ),
        (lambda a, s: story_publish(actor=a, story=s), "Публикует истории только супервизор."),
        (lambda a, s: story_withdraw(actor=a, story=s), "Снимает истории только супервизор."),
        (
            lambda a, s: story_assign(actor=a, story=s, users=[a]),
            "Назначает истории только супервизор.",
        ),
    ],
)
def test_each_curating_step_refuses_an_operator(cast, story, call, text):
    with pytest.raises(NotAllowed) as caught:
        call(cast.olga, story)
    assert caught.value.messages == [text]
    stored = Story.objects.get(pk=story.pk)
    assert stored.status == StoryStatus.DRAFT and stored.body == story.body
    assert not StoryAssignment.objects.exists()


def test_a_published_story_is_withdrawn_before_it_changes(cast, story):
    story_publish(actor=cast.sue, story=story)
    with pytest.raises(ServiceError) as caught:
        story_redact_more(actor=cast.sue, story=story, fragments=["курьер"])
    assert _message(caught.value) == {
        "status": ["Чтобы изменить историю, снимите её с публикации."]
    }
    assert "курьер" in Story.objects.get(pk=story.pk).body
    withdrawn = story_withdraw(actor=cast.sue, story=story)
    assert withdrawn.status == StoryStatus.DRAFT
    assert Story.objects.get(pk=story.pk).status == StoryStatus.DRAFT


def test_publishing_stores_who_and_when_once(cast, story):
    when = timezone.now() - timedelta(hours=2)
    vera = UserFactory(username="vera", role=Role.SUPERVISOR)
    published = story_publish(actor=cast.sue, story=story, now=when)
    assert published.status == StoryStatus.PUBLISHED
    stored = Story.objects.get(pk=story.pk)
    assert (stored.status, stored.published_by, stored.published_at) == (
        StoryStatus.PUBLISHED,
        cast.sue,
        when,
    )
    # Publishing again changes nothing.
    again = story_publish(actor=vera, story=story)
    assert again.published_by == cast.sue
    assert Story.objects.get(pk=story.pk).published_by == cast.sue


# --- assignment ----------------------------------------------------------------------------


def test_assignment_tells_each_new_reader_once_on_screen_and_by_email(cast, story):
    story_publish(actor=cast.sue, story=story)
    cast.alice.email = "alice@bank.example"
    cast.alice.save(update_fields=["email"])  # olga has no address
    UserFactory(username="gone", role=Role.OPERATOR, team=cast.team_a, is_active=False)

    assert story_assign(actor=cast.sue, story=story, team=cast.team_a, users=[cast.alice]) == 2
    rows = StoryAssignment.objects.filter(story=story)
    assert {r.user_id for r in rows} == {cast.alice.pk, cast.olga.pk}
    assert {r.assigned_by_id for r in rows} == {cast.sue.pk}

    title = Story.objects.get(pk=story.pk).title
    text = f"Прочитайте историю «{title}»"
    url = f"/library/{story.pk}/"
    events = LiveEvent.objects.filter(kind="library.assigned")
    assert sorted(e.user_id for e in events) == sorted([cast.alice.pk, cast.olga.pk])
    assert {(e.text, e.payload["url"]) for e in events} == {(text, url)}

    mail = Outbox.objects.get()  # olga has no address
    assert mail.user == cast.alice and mail.address == cast.alice.email
    assert mail.channel == "email"
    assert mail.key == f"story-{story.pk}-{cast.alice.pk}"
    assert (mail.subject, mail.body, mail.payload) == (text, text, {"url": url})

    # Again: nobody new, nobody told again.
    assert story_assign(actor=cast.sue, story=story, users=[cast.alice, cast.olga]) == 0
    assert LiveEvent.objects.filter(kind="library.assigned").count() == 2
    assert story_assign(actor=cast.sue, story=story, users=[cast.bob]) == 1
    assert LiveEvent.objects.filter(kind="library.assigned", user=cast.bob).count() == 1


def test_assignment_refusals_in_words(cast, story):
    with pytest.raises(ServiceError) as caught:
        story_assign(actor=cast.sue, story=story, users=[cast.alice])
    assert _message(caught.value) == {"story": ["Сначала опубликуйте историю."]}
    story_publish(actor=cast.sue, story=story)
    with pytest.raises(ServiceError) as caught:
        story_assign(actor=cast.sue, story=story, users=[])
    assert _message(caught.value) == {"users": ["Выберите, кому назначить историю."]}
    assert not StoryAssignment.objects.exists()
    assert not LiveEvent.objects.filter(kind="library.assigned").exists()


def test_acknowledging_is_the_readers_own_and_keeps_the_first_time(cast, story):
    story_publish(actor=cast.sue, story=story)
    story_assign(actor=cast.sue, story=story, users=[cast.alice, cast.olga])
    with pytest.raises(ServiceError) as caught:
        story_acknowledge(user=cast.bob, story=story)
    assert _message(caught.value) == {"story": ["Эта история вам не назначена."]}

    first = story_acknowledge(user=cast.alice, story=story).acknowledged_at
    assert StoryAssignment.objects.get(user=cast.alice).acknowledged_at == first
    assert StoryAssignment.objects.get(user=cast.olga).acknowledged_at is None
    story_acknowledge(user=cast.alice, story=story)
    assert StoryAssignment.objects.get(user=cast.alice).acknowledged_at == first


# --- who sees what -------------------------------------------------------------------------


def test_drafts_are_for_curators_published_stories_for_all_staff(cast, story, sensitive_case):
    other = story_create(actor=cast.sue, kind="lesson", note="y", case=sensitive_case)
    story_publish(actor=cast.sue, story=other)
    assert story_get_for_user(user=cast.alice, story_id=other.pk) == other
    with pytest.raises(Http404):
        story_get_for_user(user=cast.alice, story_id=story.pk)
    assert story_get_for_user(user=cast.sue, story_id=story.pk) == story

    assert set(story_search(user=cast.sue)) == {story, other}
    assert list(story_search(user=cast.bob)) == [other]
    assert list(story_search(user=cast.sue, status=StoryStatus.DRAFT)) == [story]
    cast.bob.is_active = False
    assert list(story_search(user=cast.bob)) == []
    with pytest.raises(Http404):
        story_get_for_user(user=cast.bob, story_id=other.pk)


def test_search_narrows_by_topic_product_and_every_word(cast, sensitive_case):
    topic = TopicFactory(name="Кредиты")
    one = story_create(
        actor=cast.sue,
        kind="lesson",
        note="курьер опоздал",
        case=sensitive_case,
        product_kind="card",
    )
    two = story_create(actor=cast.sue, kind="lesson", note="курьер", case=sensitive_case)
    Story.objects.filter(pk=two.pk).update(topic=topic)
    assert list(story_search(user=cast.sue, topic_id=topic.pk)) == [two]
    assert list(story_search(user=cast.sue, product_kind="card")) == [one]
    assert list(story_search(user=cast.sue, query="опоздал курьер")) == [one]
    assert set(story_search(user=cast.sue, query="  ")) == {one, two}


def test_reading_lists_are_the_users_own_published_ones(cast, story, sensitive_case):
    story_publish(actor=cast.sue, story=story)
    story_assign(actor=cast.sue, story=story, users=[cast.alice, cast.olga])
    cast.alice.last_name, cast.olga.last_name = "Яковлева", "Абрамова"
    cast.alice.save(update_fields=["last_name"])
    cast.olga.save(update_fields=["last_name"])

    assert [a.story for a in assignments_for(user=cast.alice)] == [story]
    assert list(assignments_for(user=cast.bob)) == []
    assert assignment_of(user=cast.alice, story=story).user == cast.alice
    assert assignment_of(user=cast.bob, story=story) is None
    assert [a.user for a in assignment_progress(story=story)] == [cast.olga, cast.alice]

    story_withdraw(actor=cast.sue, story=story)
    assert list(assignments_for(user=cast.alice)) == []
