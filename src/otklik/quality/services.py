"""Writes for quality review: scorecards, evaluations, acknowledgement, disputes, sampling."""

import random
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, User
from otklik.cases.models import Interaction
from otklik.chat.models import Conversation
from otklik.common.errors import ConflictError, NotAllowed, ServiceError
from otklik.common.redaction import redact
from otklik.live.services import staff_tell
from otklik.quality.models import (
    Answer,
    AnswerResult,
    Criterion,
    Evaluation,
    EvaluationStatus,
    SampleItem,
    Scorecard,
    TargetKind,
)
from otklik.quality.selectors import (
    FRONT_LINE,
    Target,
    can_evaluate,
    can_resolve_disputes,
    compute_score,
    iso_week,
)


@transaction.atomic
def scorecard_create(
    *, name: str, criteria: list[tuple[str, str, int, bool]], description: str = ""
) -> Scorecard:
    """A scorecard from (group, text, weight, critical) rows, in order."""
    if not criteria:
        raise ServiceError({"criteria": _("A scorecard needs at least one criterion.")})
    card = Scorecard.objects.create(name=name.strip(), description=description)
    for position, (group, text, weight, critical) in enumerate(criteria):
        if weight < 1:
            raise ServiceError({"criteria": _("A weight is a positive whole number.")})
        Criterion.objects.create(
            scorecard=card,
            group=group,
            text=text,
            weight=weight,
            critical=critical,
            position=position,
        )
    return card


def _tell(users: list[User], *, kind: str, text: str, evaluation: Evaluation) -> None:
    users = [u for u in users if u is not None and u.is_active]
    if not users:
        return
    staff_tell(
        users=users,
        kind=kind,
        text=text,
        url=reverse("quality:evaluation", args=[evaluation.pk]),
        key=f"{kind}-{evaluation.pk}-{{user}}-{evaluation.status}",
    )


@transaction.atomic
def evaluation_submit(
    *,
    evaluator: User,
    target: Target,
    scorecard: Scorecard,
    results: dict[int, str],
    notes: dict[int, str] | None = None,
    comment: str = "",
    calibration: bool = False,
    now: datetime | None = None,
) -> Evaluation:
    """Score a contact: every criterion of the card judged met, not met or not applicable.

    `target` comes from `target_get_for_user`, which has checked that the evaluator may see
    the contact; here we check that they may evaluate its operator.
    """
    operator = target.operator
    if operator is None:
        raise ServiceError({"target": _("This contact has no operator to evaluate.")})
    if not can_evaluate(evaluator=evaluator, operator=operator):
        raise NotAllowed(_("You may not evaluate this operator."))
    criteria = list(scorecard.criteria.all())
    missing = [c for c in criteria if results.get(c.pk) not in AnswerResult.values]
    if missing:
        raise ServiceError(
            {"results": _("Judge every criterion (%(n)s left).") % {"n": len(missing)}}
        )
    if (
        not calibration
        and Evaluation.objects.filter(target_key=target.key, calibration=False)
        .exclude(status=EvaluationStatus.ANNULLED)
        .exists()
    ):
        raise ConflictError(
            {"target": _("This contact is already evaluated; score it as a calibration.")}
        )
    now = now or timezone.now()
    scored = compute_score([(c.group, c.weight, c.critical, results[c.pk]) for c in criteria])
    evaluation = Evaluation.objects.create(
        scorecard=scorecard,
        evaluator=evaluator,
        operator=operator,
        kind=target.kind,
        conversation=target.obj if target.kind == TargetKind.CHAT else None,
        interaction=target.obj if target.kind == TargetKind.CALL else None,
        case=target.obj if target.kind == TargetKind.CASE else None,
        target_key=target.key,
        score=scored.score,
        critical_failed=scored.critical_failed,
        comment=redact(comment.strip()),
        calibration=calibration,
        created_at=now,
    )
    Answer.objects.bulk_create(
        [
            Answer(
                evaluation=evaluation,
                criterion=c,
                result=results[c.pk],
                weight=c.weight,
                critical=c.critical,
                note=redact((notes or {}).get(c.pk, "").strip())[:300],
            )
            for c in criteria
        ]
    )
    SampleItem.objects.filter(target_key=target.key, evaluation__isnull=True).update(
        evaluation=evaluation
    )
    if not calibration:
        with translation.override(settings.LANGUAGE_CODE):
            text = _("Your contact was evaluated: %(score)s. Please read and acknowledge.") % {
                "score": scored.score
            }
        _tell([operator], kind="quality.evaluated", text=text, evaluation=evaluation)
    return evaluation


def _locked(evaluation: Evaluation) -> Evaluation:
    return Evaluation.objects.select_for_update().get(pk=evaluation.pk)


@transaction.atomic
def evaluation_acknowledge(*, user: User, evaluation: Evaluation) -> Evaluation:
    """The operator has read the evaluation (and accepts it)."""
    evaluation = _locked(evaluation)
    if evaluation.operator_id != user.pk or evaluation.calibration:
        raise NotAllowed(_("Only the operator evaluated acknowledges an evaluation."))
    if evaluation.status != EvaluationStatus.SUBMITTED:
        raise ServiceError({"status": _("This evaluation is no longer waiting for you.")})
    evaluation.status = EvaluationStatus.ACKNOWLEDGED
    evaluation.acknowledged_at = timezone.now()
    evaluation.save(update_fields=["status", "acknowledged_at"])
    return evaluation


@transaction.atomic
def evaluation_dispute(*, user: User, evaluation: Evaluation, reason: str) -> Evaluation:
    """The operator disagrees: the evaluation goes to the supervisors with the reason."""
    evaluation = _locked(evaluation)
    if evaluation.operator_id != user.pk or evaluation.calibration:
        raise NotAllowed(_("Only the operator evaluated disputes an evaluation."))
    if evaluation.status != EvaluationStatus.SUBMITTED:
        raise ServiceError({"status": _("Only an evaluation waiting for you can be disputed.")})
    reason = redact((reason or "").strip())
    if not reason:
        raise ServiceError({"reason": _("Say what you disagree with.")})
    evaluation.status = EvaluationStatus.DISPUTED
    evaluation.dispute_reason = reason
    evaluation.disputed_at = timezone.now()
    evaluation.save(update_fields=["status", "dispute_reason", "disputed_at"])
    supervisors = list(User.objects.filter(role__in=[Role.SUPERVISOR], is_active=True))
    with translation.override(settings.LANGUAGE_CODE):
        text = _("%(name)s disputes an evaluation") % {"name": user.display_name}
    _tell(supervisors, kind="quality.disputed", text=text, evaluation=evaluation)
    return evaluation


@transaction.atomic
def evaluation_resolve(
    *, user: User, evaluation: Evaluation, uphold: bool, note: str
) -> Evaluation:
    """A supervisor decides a dispute: the score stands (upheld) or is annulled."""
    if not can_resolve_disputes(user):
        raise NotAllowed(_("Only a supervisor decides disputes."))
    evaluation = _locked(evaluation)
    if evaluation.status != EvaluationStatus.DISPUTED:
        raise ServiceError({"status": _("This evaluation is not disputed.")})
    note = redact((note or "").strip())
    if not note:
        raise ServiceError({"note": _("Explain the decision to the operator.")})
    evaluation.status = EvaluationStatus.UPHELD if uphold else EvaluationStatus.ANNULLED
    evaluation.resolution_note = note
    evaluation.resolved_by = user
    evaluation.resolved_at = timezone.now()
    evaluation.save(update_fields=["status", "resolution_note", "resolved_by", "resolved_at"])
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Your dispute was decided: %(status)s") % {
            "status": evaluation.get_status_display()
        }
    _tell(
        [evaluation.operator, evaluation.evaluator],
        kind="quality.resolved",
        text=text,
        evaluation=evaluation,
    )
    return evaluation


# --- weekly sampling --------------------------------------------------------------------


def _week_bounds(week_start: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(week_start, datetime.min.time(), tzinfo=tz)
    return start, start + timedelta(weeks=1)


@transaction.atomic
def sample_week(
    *, week_start: date, per_operator: int = 3, low_rating: int = 2, now: datetime | None = None
) -> int:
    """Pick contacts of each front-line operator in the week for review.

    Rule first: every chat the client rated `low_rating` or below. Then at random (seeded
    by week and operator, so a rerun picks the same) from their chats and calls, up to
    `per_operator` in all. Idempotent: a contact is sampled once per week.
    """
    if week_start.weekday() != 0:
        raise ServiceError({"week_start": _("A week starts on a Monday.")})
    now = now or timezone.now()
    start, end = _week_bounds(week_start)
    week = iso_week(week_start)
    created = 0
    operators = User.objects.filter(is_active=True, role__in=FRONT_LINE).order_by("pk")
    for operator in operators:
        chats = list(
            Conversation.objects.filter(
                operator=operator, created_at__gte=start, created_at__lt=end
            )
            .order_by("pk")
            .values_list("pk", "rating__score")
        )
        calls = list(
            Interaction.objects.filter(
                operator=operator, channel="phone", started_at__gte=start, started_at__lt=end
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        picks: list[tuple[str, int, str]] = [
            (TargetKind.CHAT, pk, "low_rating")
            for pk, rating in chats
            if rating is not None and rating <= low_rating
        ]
        pool = [
            (TargetKind.CHAT, pk, "random")
            for pk, rating in chats
            if (TargetKind.CHAT, pk, "low_rating") not in picks
        ]
        pool += [(TargetKind.CALL, pk, "random") for pk in calls]
        room = max(per_operator - len(picks), 0)
        rng = random.Random(f"{week}:{operator.pk}")
        picks += rng.sample(pool, min(room, len(pool)))
        for kind, pk, rule in picks:
            try:
                with transaction.atomic():
                    SampleItem.objects.create(
                        week=week,
                        operator=operator,
                        kind=kind,
                        target_id=pk,
                        target_key=f"{kind}:{pk}",
                        rule=rule,
                        created_at=now,
                    )
                    created += 1
            except IntegrityError:
                continue
    return created


def sampling_scan(now: datetime | None = None) -> int:
    """Periodic: sample last week once it is over (a rerun adds nothing)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    last_monday = today - timedelta(days=today.weekday() + 7)
    if SampleItem.objects.filter(week=iso_week(last_monday)).exists():
        return 0
    return sample_week(week_start=last_monday, now=now)
