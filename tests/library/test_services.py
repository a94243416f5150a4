"""The library: supervisors mark and review, operators read what they are assigned."""

import pytest
from django.http import Http404

from otklik.common.errors import NotAllowed, ServiceError
from otklik.library.models import StoryStatus
from otklik.library.selectors import story_get_for_user, story_search
from otklik.library.services import (
    story_acknowledge,
    story_assign,
    story_create,
    story_publish,
    story_redact_more,
)
from otklik.live.models import LiveEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(cast, sensitive_case):
    return story_create(
        actor=cast.sue, kind="exemplary", note="Спокойно и по делу", case=sensitive_case
    )


def test_only_supervisors_mark_stories(cast, sensitive_case):
    with pytest.raises(NotAllowed):
        story_create(actor=cast.olga, kind="lesson", note="x", case=sensitive_case)
    with pytest.raises(ServiceError):
        story_create(actor=cast.sue, kind="lesson", note="  ", case=sensitive_case)


def test_a_draft_is_for_the_reviewer_only(cast, story):
    assert story.status == StoryStatus.DRAFT
    with pytest.raises(Http404):
        story_get_for_user(user=cast.alice, story_id=story.pk)
    assert story_get_for_user(user=cast.sue, story_id=story.pk) == story


def test_the_reviewer_hides_more_and_cannot_bring_anything_back(cast, story):
    story = story_redact_more(actor=cast.sue, story=story, fragments=["курьер привезёт"])
    assert "курьер привезёт" not in story.body and "[скрыто]" in story.body
    assert story.redactions["manual"] == 1
    with pytest.raises(NotAllowed):
        story_redact_more(actor=cast.alice, story=story, fragments=["карту"])
    story_publish(actor=cast.sue, story=story)
    with pytest.raises(ServiceError):
        story_redact_more(actor=cast.sue, story=story, fragments=["карту"])


def test_assigned_reading_is_acknowledged(cast, story):
    with pytest.raises(ServiceError):  # not yet published
        story_assign(actor=cast.sue, story=story, team=cast.team_a)
    story_publish(actor=cast.sue, story=story)
    assert story_assign(actor=cast.sue, story=story, team=cast.team_a) == 2  # alice, olga
    assert story_assign(actor=cast.sue, story=story, users=[cast.alice]) == 0  # once
    assert LiveEvent.objects.filter(user=cast.alice, kind="library.assigned").exists()
    with pytest.raises(ServiceError):
        story_acknowledge(user=cast.bob, story=story)
    assignment = story_acknowledge(user=cast.alice, story=story)
    assert assignment.acknowledged_at is not None


def test_search_by_topic_product_and_words(cast, story):
    story_publish(actor=cast.sue, story=story)
    assert list(story_search(user=cast.bob, query="курьер")) == [story]
    assert list(story_search(user=cast.bob, query="ипотека")) == []
    assert list(story_search(user=cast.bob, topic_id=story.topic_id)) == [story]
    assert list(story_search(user=cast.bob, product_kind="loan")) == []
