"""SLA configuration held in memory: every committed change is seen at the next use."""

from datetime import date

import pytest
from django.db import transaction

from otklik.common import generations
from otklik.sla import config
from otklik.sla.models import BusinessCalendar, CalendarDay, SlaPolicy
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def candidates(topic=None, priority=2, channel="chat") -> set[str]:
    found = config.policy_candidates(
        topic_id=topic.pk if topic else None, priority=priority, channel=channel
    )
    return {p.name for p in found}


def test_policy_saved_edited_and_deleted_is_seen_at_once():
    topic = TopicFactory(name="Карты")
    assert candidates(topic) == set()
    policy = SlaPolicy.objects.create(name="Карты", topic=topic, resolution_minutes=60)
    assert candidates(topic) == {"Карты"}
    policy.is_active = False
    policy.save()
    assert candidates(topic) == set()
    policy.delete()
    assert candidates(topic) == set()


def test_policies_match_topic_priority_and_channel_or_anything():
    topic, other = TopicFactory(name="Карты"), TopicFactory(name="Вклады")
    SlaPolicy.objects.create(name="any", resolution_minutes=600)
    SlaPolicy.objects.create(name="topic", topic=topic, resolution_minutes=60)
    SlaPolicy.objects.create(name="urgent", priority=4, resolution_minutes=30)
    SlaPolicy.objects.create(name="phone", channel="phone", first_response_minutes=5)
    assert candidates(topic) == {"any", "topic"}
    assert candidates(other, priority=4, channel="phone") == {"any", "urgent", "phone"}


def test_a_change_committed_by_another_process_is_seen():
    """Another process's change arrives as rows plus a new generation token; rows alone
    (an UPDATE that bypassed the model) are not noticed until the token changes."""
    SlaPolicy.objects.create(name="Общая", resolution_minutes=600)
    assert candidates() == {"Общая"}
    SlaPolicy.objects.update(name="Общая (изм.)")  # no signal: the cache cannot know
    assert candidates() == {"Общая"}
    generations.bump(config.GENERATION)  # what the other process's save did
    assert candidates() == {"Общая (изм.)"}


def test_a_rolled_back_change_is_forgotten():
    with pytest.raises(RuntimeError), transaction.atomic():
        SlaPolicy.objects.create(name="Черновик", resolution_minutes=1)
        assert candidates() == {"Черновик"}  # the snapshot read it inside the transaction
        raise RuntimeError("rolled back")
    assert candidates() == set()


def test_calendar_for_team_and_department_follow_membership_changes(cast):
    default = BusinessCalendar.objects.create(name="Общий", is_default=True)
    team_calendar = BusinessCalendar.objects.create(name="Команда A")
    assert config.calendar_for(team_id=cast.team_a.pk) == default
    team_calendar.teams.add(cast.team_a)
    assert config.calendar_for(team_id=cast.team_a.pk) == team_calendar
    department = BusinessCalendar.objects.create(name="СБ 24/7", is_24x7=True)
    department.departments.add(cast.security)
    assert config.calendar_for(team_id=cast.team_a.pk, department_id=cast.security.pk) == department
    team_calendar.teams.remove(cast.team_a)
    assert config.calendar_for(team_id=cast.team_a.pk) == default


def test_a_new_holiday_changes_the_calendar_spec():
    calendar = BusinessCalendar.objects.create(name="Пн–Пт")
    holiday = date(2026, 11, 4)
    assert config.spec_for(calendar).spans_on(holiday) != ()
    CalendarDay.objects.create(calendar=calendar, date=holiday, is_working=False)
    assert config.spec_for(calendar).spans_on(holiday) == ()
