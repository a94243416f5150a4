"""Reads for quality review: who may evaluate whom, who sees whose scores, the figures.

- Evaluate: supervisors and admins anyone; senior operators (mentors) the operators of their
  own team; anyone with the `quality.evaluate` permission anyone. Never oneself.
- See an evaluation: the operator evaluated (not calibration scores), its evaluator,
  supervisors and admins, and the mentors of the operator's team.
- Resolve a dispute: supervisors and admins only.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from otklik.accounts.models import Role, Team, User
from otklik.cases.models import Case, Interaction
from otklik.cases.selectors import case_visible_to, cases_visible_q
from otklik.chat.models import ChatMessage, Conversation
from otklik.chat.selectors import conversations_visible_q
from otklik.quality.models import (
    Answer,
    AnswerResult,
    Evaluation,
    EvaluationStatus,
    Scorecard,
    TargetKind,
)

FRONT_LINE = (Role.OPERATOR, Role.SENIOR_OPERATOR, Role.PERSONAL_MANAGER)
COUNTED = (
    EvaluationStatus.SUBMITTED,
    EvaluationStatus.ACKNOWLEDGED,
    EvaluationStatus.DISPUTED,
    EvaluationStatus.UPHELD,
)


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_mentor(user: User) -> bool:
    """May evaluate at least someone."""
    return _active(user) and (
        user.sees_everything
        or user.role == Role.SENIOR_OPERATOR
        or user.has_perm("quality.evaluate")
    )


def can_evaluate(*, evaluator: User, operator: User) -> bool:
    if not _active(evaluator) or evaluator.pk == operator.pk:
        return False
    if evaluator.sees_everything or evaluator.has_perm("quality.evaluate"):
        return True
    return (
        evaluator.role == Role.SENIOR_OPERATOR
        and evaluator.team_id is not None
        and evaluator.team_id == operator.team_id
    )


def can_resolve_disputes(user: User) -> bool:
    return _active(user) and user.sees_everything


def evaluations_visible_q(user: User) -> Q:
    if not _active(user):
        return Q(pk__in=[])
    if user.sees_everything:
        return Q()
    visible = Q(evaluator=user) | Q(operator=user, calibration=False)
    if user.has_perm("quality.evaluate"):
        return Q()
    if user.role == Role.SENIOR_OPERATOR and user.team_id is not None:
        visible |= Q(operator__team_id=user.team_id)
    return visible


def evaluation_get_for_user(*, user: User, evaluation_id: int) -> Evaluation:
    evaluation = (
        Evaluation.objects.filter(evaluations_visible_q(user), pk=evaluation_id)
        .select_related("scorecard", "evaluator", "operator", "operator__team", "resolved_by")
        .first()
    )
    if evaluation is None:
        raise Http404
    return evaluation


def evaluations_for_user(*, user: User, operator: User | None = None) -> QuerySet[Evaluation]:
    qs = Evaluation.objects.filter(evaluations_visible_q(user)).select_related(
        "scorecard", "evaluator", "operator"
    )
    if operator is not None:
        qs = qs.filter(operator=operator)
    return qs


def pending_for_operator(*, user: User) -> QuerySet[Evaluation]:
    """The operator's own evaluations still waiting for their acknowledgement."""
    return Evaluation.objects.filter(
        operator=user, calibration=False, status=EvaluationStatus.SUBMITTED
    ).select_related("scorecard", "evaluator")


def disputes_open(*, user: User) -> QuerySet[Evaluation]:
    if not can_resolve_disputes(user):
        return Evaluation.objects.none()
    return Evaluation.objects.filter(status=EvaluationStatus.DISPUTED).select_related(
        "operator", "evaluator", "scorecard"
    )


def scorecards_active() -> QuerySet[Scorecard]:
    return Scorecard.objects.filter(is_active=True).prefetch_related("criteria")


def scorecard_get(*, scorecard_id: int) -> Scorecard:
    card = Scorecard.objects.filter(pk=scorecard_id, is_active=True).first()
    if card is None:
        raise Http404
    return card


# --- the contact being evaluated --------------------------------------------------------


@dataclass
class Target:
    kind: str
    obj: Conversation | Interaction | Case
    operator: User | None
    client_id: int | None
    lines: list[tuple[str, str]] = field(default_factory=list)  # (who, text)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.obj.pk}"


def target_get_for_user(*, user: User, kind: str, target_id: int) -> Target:
    """The contact with its transcript, if `user` may see it (404 otherwise)."""
    if kind == TargetKind.CHAT:
        conv = (
            Conversation.objects.filter(conversations_visible_q(user), pk=target_id)
            .select_related("operator")
            .distinct()
            .first()
        )
        if conv is None:
            raise Http404
        lines = [
            (m.get_sender_kind_display(), m.body)
            for m in ChatMessage.objects.filter(conversation=conv, internal=False).order_by("seq")
            if m.body
        ]
        return Target(kind, conv, conv.operator, conv.client_id, lines)
    if kind == TargetKind.CALL:
        call = (
            Interaction.objects.filter(cases_visible_q(user, via="case"), pk=target_id)
            .select_related("operator")
            .first()
        )
        if call is None:
            raise Http404
        return Target(kind, call, call.operator, call.client_id, [("", call.summary)])
    if kind == TargetKind.CASE:
        case = (
            Case.objects.filter(cases_visible_q(user), pk=target_id).select_related("owner").first()
        )
        if case is None or not case_visible_to(user=user, case=case):
            raise Http404
        lines = [
            (m.get_author_kind_display(), m.body)
            for m in case.messages.filter(visibility="public").order_by("created_at", "pk")
        ]
        return Target(kind, case, case.owner, case.client_id, lines)
    raise Http404


# --- scoring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    score: float
    critical_failed: bool
    groups: dict[str, float | None]


def compute_score(answers: list[tuple[str, int, bool, str]]) -> Scored:
    """(group, weight, critical, result) rows → 0–100: met weight over judged weight.

    «Not applicable» rows count for neither side. One critical criterion not met makes the
    whole evaluation 0, whatever else was good (group figures still show where).
    """
    met: dict[str, int] = defaultdict(int)
    judged: dict[str, int] = defaultdict(int)
    critical_failed = False
    for group, weight, critical, result in answers:
        if result == AnswerResult.NA:
            judged.setdefault(group, 0)
            continue
        judged[group] += weight
        if result == AnswerResult.MET:
            met[group] += weight
        elif critical:
            critical_failed = True
    total_judged = sum(judged.values())
    total = 100.0 * sum(met.values()) / total_judged if total_judged else 100.0
    groups = {g: (round(100.0 * met[g] / j, 1) if j else None) for g, j in judged.items()}
    return Scored(0.0 if critical_failed else round(total, 1), critical_failed, groups)


def evaluation_groups(evaluation: Evaluation) -> dict[str, float | None]:
    rows = [
        (a.criterion.group, a.weight, a.critical, a.result)
        for a in evaluation.answers.select_related("criterion")
    ]
    return compute_score(rows).groups


def evaluation_answers(evaluation: Evaluation) -> list[Answer]:
    return list(evaluation.answers.select_related("criterion"))


# --- figures -------------------------------------------------------------------------


def iso_week(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = timezone.localtime(day).date()
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class OperatorFigures:
    operator: User
    count: int
    average: float | None
    critical_fails: int
    weeks: dict[str, float | None]


def operators_visible_for_figures(user: User) -> QuerySet[User]:
    if not _active(user):
        return User.objects.none()
    qs = User.objects.filter(is_active=True, role__in=FRONT_LINE).select_related("team")
    if user.sees_everything or user.has_perm("quality.evaluate"):
        return qs
    if user.role == Role.SENIOR_OPERATOR and user.team_id is not None:
        return qs.filter(team_id=user.team_id)
    return qs.filter(pk=user.pk)


def figures(*, user: User, weeks: int = 8, now: datetime | None = None) -> list[OperatorFigures]:
    """Average score, count and critical failures per operator, and the weekly trend."""
    now = now or timezone.now()
    start = timezone.localtime(now).date() - timedelta(weeks=weeks)
    start = start - timedelta(days=start.weekday())
    week_keys = [iso_week(start + timedelta(weeks=i)) for i in range(weeks + 1)]
    operators = list(operators_visible_for_figures(user).order_by("team__name", "last_name"))
    rows = Evaluation.objects.filter(
        operator__in=operators,
        calibration=False,
        status__in=COUNTED,
        created_at__date__gte=start,
    ).values_list("operator_id", "score", "critical_failed", "created_at")
    per_op: dict[int, list] = defaultdict(list)
    for op_id, score, critical, created in rows:
        per_op[op_id].append((float(score), critical, iso_week(created)))
    out = []
    for op in operators:
        items = per_op.get(op.pk, [])
        by_week: dict[str, list[float]] = defaultdict(list)
        for score, _critical, week in items:
            by_week[week].append(score)
        out.append(
            OperatorFigures(
                operator=op,
                count=len(items),
                average=round(statistics.fmean(s for s, _c, _w in items), 1) if items else None,
                critical_fails=sum(1 for _s, c, _w in items if c),
                weeks={
                    w: (round(statistics.fmean(by_week[w]), 1) if by_week.get(w) else None)
                    for w in week_keys
                },
            )
        )
    return out


@dataclass
class TeamFigures:
    team: Team | None
    count: int
    average: float | None
    weeks: dict[str, float | None]


def team_figures(rows: list[OperatorFigures]) -> list[TeamFigures]:
    """Teams' figures from the operators': an evaluation-weighted mean per week."""
    grouped: dict[int | None, list[OperatorFigures]] = defaultdict(list)
    for row in rows:
        grouped[row.operator.team_id].append(row)
    out = []
    for members in grouped.values():
        count = sum(m.count for m in members)
        total = sum((m.average or 0) * m.count for m in members)
        weeks = {}
        for week in members[0].weeks:
            values = [m.weeks[week] for m in members if m.weeks[week] is not None]
            weeks[week] = round(statistics.fmean(values), 1) if values else None
        out.append(
            TeamFigures(
                members[0].operator.team, count, round(total / count, 1) if count else None, weeks
            )
        )
    return out


@dataclass
class Calibration:
    target_key: str
    evaluations: list[Evaluation]
    spread: float
    stdev: float


def calibrations(*, user: User, limit: int = 50) -> list[Calibration]:
    """Contacts scored by two or more evaluators, with the spread of their scores."""
    if not (user.sees_everything or user.has_perm("quality.evaluate") or is_mentor(user)):
        return []
    qs = (
        Evaluation.objects.filter(evaluations_visible_q(user))
        .exclude(status=EvaluationStatus.ANNULLED)
        .select_related("evaluator", "operator")
    )
    grouped: dict[str, list[Evaluation]] = defaultdict(list)
    for ev in qs.order_by("target_key", "created_at"):
        grouped[ev.target_key].append(ev)
    out = []
    for key, evs in grouped.items():
        if len({e.evaluator_id for e in evs}) < 2:
            continue
        scores = [float(e.score) for e in evs]
        out.append(
            Calibration(
                key, evs, round(max(scores) - min(scores), 1), round(statistics.pstdev(scores), 1)
            )
        )
    out.sort(key=lambda c: -c.spread)
    return out[:limit]
