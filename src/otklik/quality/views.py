"""Quality review in the browser: the mentor's form, the operator's evaluations, figures."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.audit.services import audit_record
from otklik.common.errors import ServiceError
from otklik.common.web import htmx_redirect, int_or_none, service_errors
from otklik.quality import services
from otklik.quality.models import AnswerResult, SampleItem, TargetKind
from otklik.quality.selectors import (
    calibrations,
    can_resolve_disputes,
    disputes_open,
    evaluation_answers,
    evaluation_get_for_user,
    evaluation_groups,
    evaluations_for_user,
    figures,
    is_mentor,
    pending_for_operator,
    scorecard_get,
    scorecards_active,
    target_get_for_user,
    team_figures,
)

VIA = "quality"
UNPROCESSABLE = 422


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    mentor = is_mentor(user)
    samples = []
    if mentor:
        samples = list(
            SampleItem.objects.filter(evaluation__isnull=True)
            .select_related("operator")
            .order_by("-week", "operator__last_name")[:100]
        )
        if not user.sees_everything and not user.has_perm("quality.evaluate"):
            samples = [
                s
                for s in samples
                if s.operator.team_id == user.team_id and s.operator_id != user.pk
            ]
    context = {
        "pending": pending_for_operator(user=user),
        "mine": evaluations_for_user(user=user, operator=user).filter(calibration=False)[:50],
        "given": evaluations_for_user(user=user).filter(evaluator=user)[:50] if mentor else [],
        "samples": samples,
        "disputes": disputes_open(user=user),
        "mentor": mentor,
        "supervisor": can_resolve_disputes(user),
    }
    return render(request, "quality/home.html", context)


def _target(request: HttpRequest, source) -> tuple[str, int | None]:
    kind = source.get("kind", "")
    if kind not in TargetKind.values:
        kind = TargetKind.CHAT
    return kind, int_or_none(source.get("target"))


@login_required
@require_http_methods(["GET", "POST"])
def evaluate(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not is_mentor(user):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    kind, target_id = _target(request, source)
    cards = list(scorecards_active())
    context: dict = {
        "kind": kind,
        "kinds": TargetKind.choices,
        "cards": cards,
        "errors": {},
        "results": AnswerResult.choices,
        "target": None,
    }
    if target_id is None:
        return render(request, "quality/evaluate.html", context)
    target = target_get_for_user(user=user, kind=kind, target_id=target_id)
    audit_record(
        actor=user,
        action="view",
        via=VIA,
        client_id=target.client_id,
        obj=target.obj,
        request=request,
        detail="quality review",
    )
    card_id = int_or_none(source.get("scorecard")) or (cards[0].pk if cards else None)
    card = scorecard_get(scorecard_id=card_id) if card_id else None
    context.update(target=target, card=card, criteria=list(card.criteria.all()) if card else [])
    if request.method == "GET" or card is None:
        return render(request, "quality/evaluate.html", context)
    results = {c.pk: request.POST.get(f"c{c.pk}", "") for c in context["criteria"]}
    notes = {c.pk: request.POST.get(f"n{c.pk}", "") for c in context["criteria"]}
    try:
        evaluation = services.evaluation_submit(
            evaluator=user,
            target=target,
            scorecard=card,
            results=results,
            notes=notes,
            comment=request.POST.get("comment", ""),
            calibration=request.POST.get("calibration") == "1",
        )
    except ServiceError as exc:
        context.update(errors=service_errors(exc), posted=results)
        return render(request, "quality/evaluate.html", context, status=UNPROCESSABLE)
    messages.success(request, _("Evaluation saved: %(score)s.") % {"score": evaluation.score})
    return htmx_redirect(request, reverse("quality:evaluation", args=[evaluation.pk]))


@login_required
@require_GET
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    user = request.user
    evaluation = evaluation_get_for_user(user=user, evaluation_id=evaluation_id)
    target_id = evaluation.conversation_id or evaluation.interaction_id or evaluation.case_id
    target = None
    if target_id:
        try:
            target = target_get_for_user(user=user, kind=evaluation.kind, target_id=target_id)
        except Http404:  # the operator may not see the contact itself (another team's chat)
            target = None
    if target is not None:
        audit_record(
            actor=user,
            action="view",
            via=VIA,
            client_id=target.client_id,
            obj=target.obj,
            request=request,
            detail="quality evaluation",
        )
    context = {
        "evaluation": evaluation,
        "answers": evaluation_answers(evaluation),
        "groups": evaluation_groups(evaluation),
        "target": target,
        "is_operator": evaluation.operator_id == user.pk,
        "supervisor": can_resolve_disputes(user),
    }
    return render(request, "quality/evaluation.html", context)


def _back(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    return htmx_redirect(request, reverse("quality:evaluation", args=[evaluation_id]))


@login_required
@require_POST
def acknowledge(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = evaluation_get_for_user(user=request.user, evaluation_id=evaluation_id)
    try:
        services.evaluation_acknowledge(user=request.user, evaluation=evaluation)
    except ServiceError as exc:
        messages.error(request, " ".join(service_errors(exc).values()))
    return _back(request, evaluation_id)


@login_required
@require_POST
def dispute(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = evaluation_get_for_user(user=request.user, evaluation_id=evaluation_id)
    try:
        services.evaluation_dispute(
            user=request.user, evaluation=evaluation, reason=request.POST.get("reason", "")
        )
    except ServiceError as exc:
        messages.error(request, " ".join(service_errors(exc).values()))
    return _back(request, evaluation_id)


@login_required
@require_POST
def resolve(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    if not can_resolve_disputes(request.user):
        raise PermissionDenied
    evaluation = evaluation_get_for_user(user=request.user, evaluation_id=evaluation_id)
    try:
        services.evaluation_resolve(
            user=request.user,
            evaluation=evaluation,
            uphold=request.POST.get("decision") == "uphold",
            note=request.POST.get("note", ""),
        )
    except ServiceError as exc:
        messages.error(request, " ".join(service_errors(exc).values()))
    return _back(request, evaluation_id)


@login_required
@require_GET
def figures_view(request: HttpRequest) -> HttpResponse:
    rows = figures(user=request.user)
    weeks = list(rows[0].weeks) if rows else []
    context = {"rows": rows, "teams": team_figures(rows), "weeks": weeks}
    return render(request, "quality/figures.html", context)


@login_required
@require_GET
def calibration_view(request: HttpRequest) -> HttpResponse:
    if not is_mentor(request.user):
        raise PermissionDenied
    return render(request, "quality/calibration.html", {"rows": calibrations(user=request.user)})


@login_required
@require_POST
def sample(request: HttpRequest) -> HttpResponse:
    """A supervisor samples a week now (the periodic scan does last week on its own)."""
    if not can_resolve_disputes(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    week_start = today - timedelta(days=today.weekday())
    raw = request.POST.get("week_start", "")
    try:
        if raw:
            week_start = date.fromisoformat(raw)
        created = services.sample_week(week_start=week_start)
    except (ValueError, ServiceError):
        messages.error(request, _("Give a Monday as YYYY-MM-DD."))
    else:
        messages.success(request, _("%(n)s contacts added to the sample.") % {"n": created})
    return htmx_redirect(request, reverse("quality:home"))
