"""Mentor review: who may evaluate whom, the operator's acknowledgement, disputes, samples."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.http import Http404
from django.utils import timezone

from otklik.common.errors import ConflictError, NotAllowed, ServiceError
from otklik.live.models import LiveEvent
from otklik.quality.models import EvaluationStatus, SampleItem
from otklik.quality.selectors import (
    calibrations,
    evaluation_get_for_user,
    figures,
    target_get_for_user,
    team_figures,
)
from otklik.quality.services import (
    evaluation_acknowledge,
    evaluation_dispute,
    evaluation_resolve,
    evaluation_submit,
    sample_week,
    sampling_scan,
)
from tests.factories import UserFactory
from tests.quality.conftest import all_met, make_chat

pytestmark = pytest.mark.django_db


def _evaluate(evaluator, chat, card, **kw):
    target = target_get_for_user(user=evaluator, kind="chat", target_id=chat.pk)
    results = kw.pop("results", None) or all_met(card)
    return evaluation_submit(
        evaluator=evaluator, target=target, scorecard=card, results=results, **kw
    )


def test_a_mentor_of_the_team_scores_a_chat_and_the_operator_is_told(cast, card, chat):
    evaluation = _evaluate(cast.olga, chat, card, comment="Хорошо")
    assert evaluation.score == 100 and evaluation.operator == cast.alice
    assert LiveEvent.objects.filter(user=cast.alice, kind="quality.evaluated").exists()


def test_a_critical_failure_scores_zero(cast, card, chat):
    results = all_met(card, **{"Не раскрыл данные без проверки личности": "failed"})
    evaluation = _evaluate(cast.sue, chat, card, results=results)
    assert evaluation.score == 0 and evaluation.critical_failed


def test_every_criterion_must_be_judged(cast, card, chat):
    results = all_met(card)
    results.pop(next(iter(results)))
    with pytest.raises(ServiceError):
        _evaluate(cast.sue, chat, card, results=results)


def test_who_may_evaluate(cast, card, chat):
    # An operator is not a mentor; a mentor of another team cannot even open the chat.
    other_mentor = UserFactory(username="mira", role="senior_operator", team=cast.team_b)
    with pytest.raises(NotAllowed):
        _evaluate(cast.bob, make_chat(operator=cast.alice, team=cast.team_b), card)
    with pytest.raises(Http404):
        target_get_for_user(user=other_mentor, kind="chat", target_id=chat.pk)
    own = make_chat(operator=cast.olga)
    with pytest.raises(NotAllowed):  # never oneself
        _evaluate(cast.olga, own, card)
    mentor = UserFactory(username="misha", role="operator", team=cast.team_b)
    mentor.user_permissions.add(Permission.objects.get(codename="evaluate"))
    mentor = type(mentor).objects.get(pk=mentor.pk)
    bobs = make_chat(operator=cast.bob)
    assert _evaluate(mentor, bobs, card).operator == cast.bob


def test_who_sees_whose_scores(cast, card, chat):
    evaluation = _evaluate(cast.olga, chat, card)
    for user in (cast.alice, cast.olga, cast.sue):
        assert evaluation_get_for_user(user=user, evaluation_id=evaluation.pk) == evaluation
    for user in (cast.bob, cast.sam):
        with pytest.raises(Http404):
            evaluation_get_for_user(user=user, evaluation_id=evaluation.pk)
    assert [f.operator for f in figures(user=cast.alice)] == [cast.alice]
    assert {f.operator.username for f in figures(user=cast.olga)} == {"alice", "olga"}
    assert cast.bob in [f.operator for f in figures(user=cast.sue)]


def test_acknowledge_only_by_the_operator(cast, card, chat):
    evaluation = _evaluate(cast.olga, chat, card)
    with pytest.raises(NotAllowed):
        evaluation_acknowledge(user=cast.olga, evaluation=evaluation)
    evaluation = evaluation_acknowledge(user=cast.alice, evaluation=evaluation)
    assert evaluation.status == EvaluationStatus.ACKNOWLEDGED and evaluation.acknowledged_at
    with pytest.raises(ServiceError):
        evaluation_dispute(user=cast.alice, evaluation=evaluation, reason="поздно")


def test_a_dispute_goes_to_the_supervisor(cast, card, chat):
    evaluation = _evaluate(
        cast.olga, chat, card, results=all_met(card, **{"Проявил участие": "failed"})
    )
    with pytest.raises(ServiceError):
        evaluation_dispute(user=cast.alice, evaluation=evaluation, reason=" ")
    evaluation = evaluation_dispute(user=cast.alice, evaluation=evaluation, reason="Участие было")
    assert LiveEvent.objects.filter(user=cast.sue, kind="quality.disputed").exists()
    with pytest.raises(NotAllowed):
        evaluation_resolve(user=cast.olga, evaluation=evaluation, uphold=False, note="нет")
    evaluation = evaluation_resolve(
        user=cast.sue, evaluation=evaluation, uphold=False, note="Согласна"
    )
    assert evaluation.status == EvaluationStatus.ANNULLED
    assert figures(user=cast.sue)[0].count == 0 or all(f.count == 0 for f in figures(user=cast.sue))


def test_a_second_official_score_must_be_a_calibration_and_the_spread_is_shown(cast, card, chat):
    _evaluate(cast.olga, chat, card)
    with pytest.raises(ConflictError):
        _evaluate(cast.sue, chat, card)
    _evaluate(
        cast.sue,
        chat,
        card,
        calibration=True,
        results=all_met(card, **{"Дал верное и полное решение": "failed"}),
    )
    rows = calibrations(user=cast.sue)
    assert len(rows) == 1 and rows[0].spread == 30.0
    # The operator does not see the calibration score.
    assert evaluation_get_for_user(user=cast.alice, evaluation_id=rows[0].evaluations[0].pk)
    with pytest.raises(Http404):
        evaluation_get_for_user(user=cast.alice, evaluation_id=rows[0].evaluations[1].pk)


def test_figures_per_operator_and_team_with_the_weekly_trend(cast, card):
    now = timezone.now()
    for days, failed in ((14, True), (0, False)):
        chat = make_chat(operator=cast.alice, now=now - timedelta(days=days))
        target = target_get_for_user(user=cast.sue, kind="chat", target_id=chat.pk)
        results = all_met(card, **({"Дал верное и полное решение": "failed"} if failed else {}))
        evaluation = evaluation_submit(
            evaluator=cast.sue,
            target=target,
            scorecard=card,
            results=results,
            now=now - timedelta(days=days),
        )
        assert evaluation.score == (70 if failed else 100)
    rows = figures(user=cast.sue, now=now)
    alice = next(r for r in rows if r.operator == cast.alice)
    assert alice.count == 2 and alice.average == 85.0
    trend = [v for v in alice.weeks.values() if v is not None]
    assert trend == [70.0, 100.0]
    team = next(t for t in team_figures(rows) if t.team == cast.team_a)
    assert team.count == 2 and team.average == 85.0


def test_weekly_sample_takes_low_ratings_first_then_random_and_is_idempotent(cast, card):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday() + 7)
    from datetime import datetime

    at = timezone.make_aware(datetime.combine(monday, datetime.min.time())) + timedelta(
        days=1, hours=12
    )
    low = make_chat(operator=cast.alice, rating=1, now=at)
    for _i in range(5):
        make_chat(operator=cast.alice, rating=5, now=at)
    make_chat(operator=cast.alice, now=at - timedelta(days=7))  # the week before: not sampled
    created = sample_week(week_start=monday, per_operator=3)
    items = list(SampleItem.objects.filter(operator=cast.alice))
    assert created == 3 and len(items) == 3
    assert [i.rule for i in items].count("low_rating") == 1
    assert any(i.target_id == low.pk for i in items)
    assert sample_week(week_start=monday, per_operator=3) == 0
    assert sampling_scan() == 0  # last week is already sampled
    with pytest.raises(ServiceError):
        sample_week(week_start=monday + timedelta(days=1))


def test_evaluating_a_sampled_contact_closes_the_sample_item(cast, card):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    from datetime import datetime

    chat = make_chat(
        operator=cast.alice,
        rating=2,
        now=timezone.make_aware(datetime.combine(monday, datetime.min.time())) + timedelta(hours=1),
    )
    sample_week(week_start=monday)
    evaluation = _evaluate(cast.olga, chat, card)
    assert SampleItem.objects.get(target_key=f"chat:{chat.pk}").evaluation == evaluation


def test_the_weekly_sample_is_a_periodic_scan(settings):
    assert ("otklik.quality.services.sampling_scan", 3600.0) in settings.OTKLIK_PERIODIC_SCANS
