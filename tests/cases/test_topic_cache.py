"""Topics are held in memory for intake; every saved change is seen at the next lookup."""

import pytest

from otklik.cases.models import Topic
from otklik.cases.selectors import TOPICS_GENERATION, topic_get, topics_get
from otklik.common import generations
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def test_new_archived_and_deleted_topics_are_seen_at_once(cast):
    assert topic_get(topic_id=10_000) is None
    topic = TopicFactory(name="Карты", default_team=cast.team_a)
    assert topic_get(topic_id=topic.pk).is_active
    topic.is_active = False
    topic.save()
    assert not topic_get(topic_id=topic.pk).is_active
    topic.delete()
    assert topic_get(topic_id=topic.pk) is None


def test_default_team_changes_are_seen(cast):
    topic = TopicFactory(name="Карты", default_team=cast.team_a)
    assert topic_get(topic_id=topic.pk).default_team == cast.team_a
    cast.team_a.name = "Карты и платежи"
    cast.team_a.save()
    assert topic_get(topic_id=topic.pk).default_team.name == "Карты и платежи"
    topic.default_team = cast.team_b
    topic.save()
    assert topics_get(topic_ids=[topic.pk, 10_000]) == {topic.pk: topic}
    assert topics_get(topic_ids=[topic.pk])[topic.pk].default_team == cast.team_b


def test_another_process_change_arrives_with_the_generation():
    topic = TopicFactory(name="Вклады")
    assert topic_get(topic_id=topic.pk).name == "Вклады"
    Topic.objects.filter(pk=topic.pk).update(name="Депозиты")  # rows alone: not noticed
    assert topic_get(topic_id=topic.pk).name == "Вклады"
    generations.bump(TOPICS_GENERATION)  # what the other process's save did
    assert topic_get(topic_id=topic.pk).name == "Депозиты"


def test_callers_get_copies_they_may_change():
    topic = TopicFactory(name="Вклады")
    mine = topic_get(topic_id=topic.pk)
    mine.name = "испорчено"
    assert topic_get(topic_id=topic.pk).name == "Вклады"
