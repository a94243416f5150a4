"""quality.services and the visibility rules of quality.selectors, rule by rule: stored rows
reloaded, who is told and what, every refusal with a user who must be refused and its words."""

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.http import Http404
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.cases.services import interaction_register
from otklik.chat.models import ChatMessage
from otklik.clients.models import ChannelKind
from otklik.common.errors import ConflictError, NotAllowed, ServiceError
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox
from otklik.quality.models import Answer, Criterion, Evaluation, EvaluationStatus, SampleItem
from otklik.quality.selectors import (
    can_evaluate,
    can_resolve_disputes,
    disputes_open,
    evaluation_get_for_user,
    evaluations_for_user,
    is_mentor,
    iso_week,
    operators_visible_for_figures,
    pending_for_operator,
    scorecard_get,
    target_get_for_user,
)
from otklik.quality.services import (
    evaluation_acknowledge,
    evaluation_dispute,
    evaluation_resolve,
    evaluation_submit,
    sample_week,
    sampling_scan,
    scorecard_create,
)
from tests.factories import UserFactory, make_case
from tests.quality.conftest import all_met, make_chat

pytestmark = pytest.mark.django_db


def _messages(error) -> dict:
    return {k: [str(m) for m in v] for k, v in error.message_dict.items()}


def _evaluate(evaluator, chat, card, **kw):
    target = target_get_for_user(user=evaluator, kind="chat", target_id=chat.pk)
    results = kw.pop("results", None) or all_met(card)
    return evaluation_submit(
        evaluator=evaluator, target=target, scorecard=card, results=results, **kw
    )


@pytest.fixture
def mailed(cast):
    """Everybody in the cast has an e-mail address."""
    for user in (cast.alice, cast.olga, cast.sue, cast.bob):
        user.email = f"{user.username}@bank.example"
        user.save(update_fields=["email"])
    return cast


# --- scorecards ----------------------------------------------------------------------------


def test_a_scorecard_keeps_its_criteria_in_order(db):
    card = scorecard_create(
        name="  Звонки  ",
        description="Для линии",
        criteria=[("A", "Первый", 2, False), ("B", "Второй", 1, True)],
    )
    stored = type(card).objects.get(pk=card.pk)
    assert (stored.name, stored.description) == ("Звонки", "Для линии")
    rows = list(Criterion.objects.filter(scorecard=card).order_by("position"))
    assert [(c.group, c.text, c.weight, c.critical, c.position) for c in rows] == [
        ("A", "Первый", 2, False, 0),
        ("B", "Второй", 1, True, 1),
    ]


@pytest.mark.parametrize(
    ("criteria", "text"),
    [
        ([], "В чек-листе нужен хотя бы один критерий."),
        (
            [("A", "Первый", 1, False), ("B", "Второй", 0, False)],
            "Вес — целое положительное число.",
        ),
    ],
)
def test_a_scorecard_without_criteria_or_with_a_zero_weight_is_refused(db, criteria, text):
    with pytest.raises(ServiceError) as caught:
        scorecard_create(name="Плохой", criteria=criteria)
    assert _messages(caught.value) == {"criteria": [text]}


# --- submitting ----------------------------------------------------------------------------


def test_the_stored_evaluation_its_answers_and_the_operator_told(mailed, card, chat):
    cast = mailed
    when = timezone.now() - timedelta(hours=3)
    first = card.criteria.order_by("position").first()
    results = all_met(card, **{"Проявил участие": "na", "Выяснил суть вопроса": "failed"})
    evaluation = _evaluate(
        cast.olga,
        chat,
        card,
        results=results,
        notes={first.pk: "  Карта 4276 3800 1234 5679  "},
        comment="  Карта 4276 3800 1234 5679  ",
        now=when,
    )
    stored = Evaluation.objects.get(pk=evaluation.pk)
    assert (stored.evaluator, stored.operator, stored.scorecard) == (cast.olga, cast.alice, card)
    assert (stored.kind, stored.conversation, stored.interaction, stored.case) == (
        "chat",
        chat,
        None,
        None,
    )
    assert stored.target_key == f"chat:{chat.pk}"
    assert float(stored.score) == 77.8  # 7 of the 9 judged weight met (1 not applicable)
    assert stored.critical_failed is False and stored.calibration is False
    assert stored.status == EvaluationStatus.SUBMITTED
    assert stored.created_at == when
    assert "4276 3800 1234 5679" not in stored.comment and stored.comment.endswith("5679")
    assert not stored.comment.startswith(" ")
    answers = {a.criterion_id: a for a in Answer.objects.filter(evaluation=stored)}
    assert len(answers) == card.criteria.count()
    for criterion in card.criteria.all():
        answer = answers[criterion.pk]
        assert answer.result == results[criterion.pk]
        assert (answer.weight, answer.critical) == (criterion.weight, criterion.critical)
    assert "4276 3800" not in answers[first.pk].note and not answers[first.pk].note.startswith(" ")

    text = "Ваш контакт оценён: 77.8. Ознакомьтесь и подтвердите."
    url = f"/quality/evaluations/{stored.pk}/"
    event = LiveEvent.objects.get(kind="quality.evaluated")
    assert (event.user, event.text, event.payload) == (cast.alice, text, {"url": url})
    mail = Outbox.objects.get()
    assert (mail.user, mail.address, mail.subject, mail.body) == (
        cast.alice,
        "alice@bank.example",
        text,
        text,
    )
    assert mail.key == f"quality.evaluated-{stored.pk}-{cast.alice.pk}-submitted"
    assert mail.payload == {"url": url}


def test_a_calibration_is_stored_and_nobody_is_told(mailed, card, chat):
    cast = mailed
    _evaluate(cast.olga, chat, card)
    LiveEvent.objects.all().delete()
    Outbox.objects.all().delete()
    evaluation = _evaluate(cast.sue, chat, card, calibration=True)
    assert Evaluation.objects.get(pk=evaluation.pk).calibration is True
    assert not LiveEvent.objects.exists() and not Outbox.objects.exists()


def test_an_annulled_score_does_not_block_a_new_official_one(cast, card, chat):
    first = _evaluate(cast.olga, chat, card)
    Evaluation.objects.filter(pk=first.pk).update(status=EvaluationStatus.ANNULLED)
    second = _evaluate(cast.sue, chat, card)
    assert second.calibration is False


def test_a_second_official_score_is_refused_in_words(cast, card, chat):
    _evaluate(cast.olga, chat, card)
    other = make_chat(operator=cast.alice)
    _evaluate(cast.olga, other, card)  # another contact: fine
    with pytest.raises(ConflictError) as caught:
        _evaluate(cast.sue, chat, card)
    assert _messages(caught.value) == {
        "target": ["Этот контакт уже оценён; оцените его как калибровку."]
    }
    assert Evaluation.objects.count() == 2


def test_missing_judgements_are_counted_in_the_refusal(cast, card, chat):
    results = all_met(card)
    keys = list(results)
    results.pop(keys[0])
    results[keys[1]] = "maybe"
    with pytest.raises(ServiceError) as caught:
        _evaluate(cast.sue, chat, card, results=results)
    assert _messages(caught.value) == {"results": ["Оцените все критерии (осталось 2)."]}
    assert not Evaluation.objects.exists()


def test_a_contact_without_an_operator_is_refused(cast, card):
    chat = make_chat(operator=cast.alice)
    chat.operator = None
    chat.save(update_fields=["operator"])
    with pytest.raises(ServiceError) as caught:
        _evaluate(cast.sue, chat, card)
    assert _messages(caught.value) == {
        "target": ["У этого контакта нет оператора, которого можно оценить."]
    }


@pytest.mark.parametrize("who", ["alice", "bob", "pavel", "sam"])
def test_who_may_not_evaluate_is_refused_in_words(cast, card, who):
    chat = make_chat(operator=cast.alice if who != "alice" else cast.olga)
    evaluator = getattr(cast, who)
    target = target_get_for_user(user=cast.sue, kind="chat", target_id=chat.pk)
    with pytest.raises(NotAllowed) as caught:
        evaluation_submit(evaluator=evaluator, target=target, scorecard=card, results=all_met(card))
    assert caught.value.messages == ["Вы не можете оценивать этого оператора."]
    assert not Evaluation.objects.exists()


def test_who_may_evaluate_whom(cast):
    admin = UserFactory(username="adm", role=Role.ADMIN)
    assert can_evaluate(evaluator=cast.olga, operator=cast.alice) is True  # own team's mentor
    assert can_evaluate(evaluator=cast.olga, operator=cast.bob) is False  # another team
    assert can_evaluate(evaluator=cast.sue, operator=cast.bob) is True
    assert can_evaluate(evaluator=admin, operator=cast.olga) is True
    assert can_evaluate(evaluator=cast.sue, operator=cast.sue) is False  # never oneself
    assert can_evaluate(evaluator=cast.alice, operator=cast.olga) is False
    teamless = UserFactory(username="teamless", role=Role.SENIOR_OPERATOR)
    assert can_evaluate(evaluator=teamless, operator=UserFactory(username="t2")) is False
    cast.olga.is_active = False
    assert can_evaluate(evaluator=cast.olga, operator=cast.alice) is False


def test_the_evaluate_permission_makes_anyone_a_mentor(cast):
    bob = cast.bob
    assert is_mentor(bob) is False
    bob.user_permissions.add(Permission.objects.get(codename="evaluate"))
    bob = type(bob).objects.get(pk=bob.pk)
    assert is_mentor(bob) is True
    assert can_evaluate(evaluator=bob, operator=cast.alice) is True
    assert is_mentor(cast.olga) is True and is_mentor(cast.sue) is True
    assert is_mentor(cast.alice) is False
    cast.sue.is_active = False
    assert is_mentor(cast.sue) is False


# --- acknowledging, disputing, resolving ---------------------------------------------------


def test_only_the_operator_evaluated_acknowledges_once(cast, card, chat):
    evaluation = _evaluate(cast.olga, chat, card)
    for user in (cast.olga, cast.sue, cast.bob):
        with pytest.raises(NotAllowed) as caught:
            evaluation_acknowledge(user=user, evaluation=evaluation)
        assert caught.value.messages == ["Подтверждает ознакомление только оценённый оператор."]
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.SUBMITTED

    evaluation_acknowledge(user=cast.alice, evaluation=evaluation)
    stored = Evaluation.objects.get(pk=evaluation.pk)
    assert stored.status == EvaluationStatus.ACKNOWLEDGED and stored.acknowledged_at is not None
    with pytest.raises(ServiceError) as caught:
        evaluation_acknowledge(user=cast.alice, evaluation=evaluation)
    assert _messages(caught.value) == {"status": ["Эта оценка больше не ждёт вашего ответа."]}


def test_a_calibration_is_neither_acknowledged_nor_disputed(cast, card, chat):
    _evaluate(cast.olga, chat, card)
    calibration = _evaluate(cast.sue, chat, card, calibration=True)
    with pytest.raises(NotAllowed):
        evaluation_acknowledge(user=cast.alice, evaluation=calibration)
    with pytest.raises(NotAllowed) as caught:
        evaluation_dispute(user=cast.alice, evaluation=calibration, reason="Нет")
    assert caught.value.messages == ["Оспорить оценку может только оценённый оператор."]
    assert Evaluation.objects.get(pk=calibration.pk).status == EvaluationStatus.SUBMITTED


def test_a_dispute_is_stored_and_every_active_supervisor_told(mailed, card, chat):
    cast = mailed
    vera = UserFactory(username="vera", role=Role.SUPERVISOR, email="vera@bank.example")
    UserFactory(username="gone", role=Role.SUPERVISOR, is_active=False, email="g@bank.example")
    UserFactory(username="adm", role=Role.ADMIN, email="adm@bank.example")
    evaluation = _evaluate(cast.olga, chat, card)
    LiveEvent.objects.all().delete()
    Outbox.objects.all().delete()

    with pytest.raises(NotAllowed):
        evaluation_dispute(user=cast.olga, evaluation=evaluation, reason="Не согласна")
    for reason in ("  ", None):
        with pytest.raises(ServiceError) as caught:
            evaluation_dispute(user=cast.alice, evaluation=evaluation, reason=reason)
        assert _messages(caught.value) == {"reason": ["Напишите, с чем вы не согласны."]}
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.SUBMITTED

    evaluation_dispute(
        user=cast.alice, evaluation=evaluation, reason="  Клиент сам отказался 4276 3800 1234 5679 "
    )
    stored = Evaluation.objects.get(pk=evaluation.pk)
    assert stored.status == EvaluationStatus.DISPUTED and stored.disputed_at is not None
    assert stored.dispute_reason.startswith("Клиент сам отказался")
    assert "4276 3800" not in stored.dispute_reason

    text = f"{cast.alice.display_name} оспаривает оценку"
    events = LiveEvent.objects.filter(kind="quality.disputed")
    assert sorted(e.user_id for e in events) == sorted([cast.sue.pk, vera.pk])
    assert {e.text for e in events} == {text}
    assert sorted(Outbox.objects.values_list("address", flat=True)) == [
        "sue@bank.example",
        "vera@bank.example",
    ]
    assert set(Outbox.objects.values_list("key", flat=True)) == {
        f"quality.disputed-{stored.pk}-{cast.sue.pk}-disputed",
        f"quality.disputed-{stored.pk}-{vera.pk}-disputed",
    }

    with pytest.raises(ServiceError) as caught:
        evaluation_dispute(user=cast.alice, evaluation=evaluation, reason="Ещё раз")
    assert _messages(caught.value) == {
        "status": ["Оспорить можно только оценку, которая ждёт вашего ответа."]
    }


@pytest.mark.parametrize(
    ("uphold", "status", "label"),
    [
        (True, EvaluationStatus.UPHELD, "Оставлена супервизором"),
        (False, EvaluationStatus.ANNULLED, "Отменена супервизором"),
    ],
)
def test_a_supervisor_decides_and_operator_and_evaluator_are_told(
    mailed, card, chat, uphold, status, label
):
    cast = mailed
    evaluation = _evaluate(cast.olga, chat, card)
    evaluation_dispute(user=cast.alice, evaluation=evaluation, reason="Не согласна")
    LiveEvent.objects.all().delete()
    Outbox.objects.all().delete()

    for user in (cast.olga, cast.alice):
        with pytest.raises(NotAllowed) as caught:
            evaluation_resolve(user=user, evaluation=evaluation, uphold=uphold, note="x")
        assert caught.value.messages == ["Споры решает только супервизор."]
    with pytest.raises(ServiceError) as caught:
        evaluation_resolve(user=cast.sue, evaluation=evaluation, uphold=uphold, note=" ")
    assert _messages(caught.value) == {"note": ["Объясните решение оператору."]}
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.DISPUTED

    evaluation_resolve(user=cast.sue, evaluation=evaluation, uphold=uphold, note="  Решено  ")
    stored = Evaluation.objects.get(pk=evaluation.pk)
    assert stored.status == status
    assert (stored.resolution_note, stored.resolved_by) == ("Решено", cast.sue)
    assert stored.resolved_at is not None

    text = f"По вашему спору принято решение: {label}"
    events = LiveEvent.objects.filter(kind="quality.resolved")
    assert sorted(e.user_id for e in events) == sorted([cast.alice.pk, cast.olga.pk])
    assert {e.text for e in events} == {text}
    assert sorted(Outbox.objects.values_list("address", flat=True)) == [
        "alice@bank.example",
        "olga@bank.example",
    ]
    assert {m.subject for m in Outbox.objects.all()} == {text}

    with pytest.raises(ServiceError) as caught:
        evaluation_resolve(user=cast.sue, evaluation=evaluation, uphold=uphold, note="Снова")
    assert _messages(caught.value) == {"status": ["Эта оценка не оспорена."]}


def test_an_inactive_evaluator_is_not_told_of_the_decision(mailed, card, chat):
    cast = mailed
    evaluation = _evaluate(cast.olga, chat, card)
    evaluation_dispute(user=cast.alice, evaluation=evaluation, reason="Не согласна")
    cast.olga.is_active = False
    cast.olga.save(update_fields=["is_active"])
    LiveEvent.objects.all().delete()
    evaluation_resolve(user=cast.sue, evaluation=evaluation, uphold=True, note="Да")
    assert list(LiveEvent.objects.values_list("user_id", flat=True)) == [cast.alice.pk]


# --- who sees which evaluation -------------------------------------------------------------


def test_who_sees_an_evaluation(cast, card, chat):
    evaluation = _evaluate(cast.olga, chat, card)
    bobs = _evaluate(cast.sue, make_chat(operator=cast.bob), card)
    for user in (cast.alice, cast.olga, cast.sue):
        assert evaluation_get_for_user(user=user, evaluation_id=evaluation.pk) == evaluation
    for user in (cast.bob, cast.pavel, cast.sam):
        with pytest.raises(Http404):
            evaluation_get_for_user(user=user, evaluation_id=evaluation.pk)
    assert list(evaluations_for_user(user=cast.alice)) == [evaluation]
    assert list(evaluations_for_user(user=cast.bob)) == [bobs]
    assert set(evaluations_for_user(user=cast.sue)) == {evaluation, bobs}
    assert list(evaluations_for_user(user=cast.sue, operator=cast.bob)) == [bobs]
    cast.sue.is_active = False
    assert list(evaluations_for_user(user=cast.sue)) == []


def test_pending_and_open_disputes(cast, card, chat):
    evaluation = _evaluate(cast.olga, chat, card)
    _evaluate(cast.sue, chat, card, calibration=True)
    assert list(pending_for_operator(user=cast.alice)) == [evaluation]
    assert list(pending_for_operator(user=cast.bob)) == []
    evaluation_dispute(user=cast.alice, evaluation=evaluation, reason="Нет")
    assert list(pending_for_operator(user=cast.alice)) == []
    assert list(disputes_open(user=cast.sue)) == [evaluation]
    assert list(disputes_open(user=cast.olga)) == []
    assert can_resolve_disputes(cast.olga) is False


def test_figures_are_shown_for_the_people_one_may_see(cast):
    admin = UserFactory(username="adm", role=Role.ADMIN)
    front = {cast.alice, cast.olga, cast.bob, cast.pavel}
    assert set(operators_visible_for_figures(cast.sue)) == front
    assert set(operators_visible_for_figures(admin)) == front
    assert set(operators_visible_for_figures(cast.olga)) == {cast.alice, cast.olga}
    assert list(operators_visible_for_figures(cast.bob)) == [cast.bob]
    cast.bob.is_active = False
    assert list(operators_visible_for_figures(cast.bob)) == []


def test_only_active_scorecards_are_given(card):
    assert scorecard_get(scorecard_id=card.pk) == card
    type(card).objects.filter(pk=card.pk).update(is_active=False)
    with pytest.raises(Http404):
        scorecard_get(scorecard_id=card.pk)


def test_a_call_and_a_case_are_evaluated_by_who_may_see_them(cast, card):
    case = make_case(actor=cast.alice)
    call = interaction_register(
        actor=cast.alice,
        client=case.client,
        channel=ChannelKind.PHONE,
        case=case,
        summary="Клиент спросил про лимит",
    )
    target = target_get_for_user(user=cast.olga, kind="call", target_id=call.pk)
    assert (target.key, target.operator, target.lines) == (
        f"call:{call.pk}",
        cast.alice,
        [("", "Клиент спросил про лимит")],
    )
    evaluation = evaluation_submit(
        evaluator=cast.olga, target=target, scorecard=card, results=all_met(card)
    )
    assert Evaluation.objects.get(pk=evaluation.pk).interaction == call

    case_target = target_get_for_user(user=cast.olga, kind="case", target_id=case.pk)
    assert (case_target.key, case_target.operator) == (f"case:{case.pk}", cast.alice)
    assert case_target.client_id == case.client_id
    evaluation = evaluation_submit(
        evaluator=cast.olga, target=case_target, scorecard=card, results=all_met(card)
    )
    assert Evaluation.objects.get(pk=evaluation.pk).case == case

    for kind, pk in (("call", call.pk), ("case", case.pk), ("letter", case.pk)):
        with pytest.raises(Http404):
            target_get_for_user(user=cast.bob, kind=kind, target_id=pk)


def test_a_chat_transcript_leaves_out_internal_and_empty_lines(cast):
    chat = make_chat(
        operator=cast.alice, lines=[("visitor", "Вопрос"), ("operator", ""), ("operator", "Ответ")]
    )
    ChatMessage.objects.filter(conversation=chat, body="Ответ").update(internal=True)
    target = target_get_for_user(user=cast.sue, kind="chat", target_id=chat.pk)
    assert [text for _who, text in target.lines] == ["Вопрос"]
    assert (target.operator, target.client_id) == (cast.alice, chat.client_id)
    with pytest.raises(Http404):
        target_get_for_user(user=cast.bob, kind="chat", target_id=chat.pk)


# --- weekly sampling -----------------------------------------------------------------------


def _monday_weeks_ago(n: int):
    today = timezone.localdate()
    return today - timedelta(days=today.weekday() + 7 * n)


def _at(monday, days=1):
    return timezone.make_aware(datetime.combine(monday, datetime.min.time())) + timedelta(
        days=days, hours=12
    )


def test_sampling_counts_ratings_up_to_the_limit_and_calls_of_that_week(cast):
    monday = _monday_weeks_ago(1)
    two = make_chat(operator=cast.bob, rating=2, now=_at(monday))
    make_chat(operator=cast.bob, rating=3, now=_at(monday))
    make_chat(operator=cast.bob, now=_at(monday, days=7))  # the next Monday: not this week
    sunday_late = make_chat(operator=cast.bob, now=_at(monday, days=6))

    created = sample_week(week_start=monday, per_operator=1, now=_at(monday, days=8))
    assert created == 1
    (item,) = SampleItem.objects.filter(operator=cast.bob)
    assert (item.kind, item.target_id, item.rule) == ("chat", two.pk, "low_rating")
    assert item.target_key == f"chat:{two.pk}"
    assert item.week == iso_week(monday)
    assert item.created_at == _at(monday, days=8)

    # With more room, the rest of the week's chats are picked at random; nothing twice.
    assert sample_week(week_start=monday, per_operator=5) == 2
    picked = set(SampleItem.objects.filter(operator=cast.bob).values_list("target_id", flat=True))
    assert sunday_late.pk in picked and len(picked) == 3


def test_sampling_leaves_out_specialists_supervisors_and_inactive_staff(cast):
    monday = _monday_weeks_ago(1)
    gone = UserFactory(username="gone", role=Role.OPERATOR, is_active=False)
    for operator in (cast.sam, cast.sue, gone, cast.pavel):
        make_chat(operator=operator, team=cast.team_a, rating=1, now=_at(monday))
    sample_week(week_start=monday)
    assert list(SampleItem.objects.values_list("operator_id", flat=True)) == [cast.pavel.pk]


def test_the_scan_samples_last_week_once(cast):
    monday = _monday_weeks_ago(1)
    make_chat(operator=cast.alice, rating=1, now=_at(monday))
    assert sampling_scan() == 1
    assert SampleItem.objects.get().week == iso_week(monday)
    assert sampling_scan() == 0


def test_a_week_must_start_on_a_monday(cast):
    with pytest.raises(ServiceError) as caught:
        sample_week(week_start=_monday_weeks_ago(1) + timedelta(days=2))
    assert _messages(caught.value) == {"week_start": ["Неделя начинается с понедельника."]}
