"""Proposals in the browser: list, new (from a case or on its own), detail with the workflow.

Thin: every fetch through a selector that checks access, every write through a service whose
`ServiceError` is shown next to the form.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.accounts.models import Department
from otklik.audit.services import audit_records_bulk
from otklik.cases.models import Case
from otklik.cases.selectors import case_get_for_user, topic_get, topic_list_active
from otklik.clients.models import ProductKind
from otklik.common.errors import ServiceError
from otklik.common.web import htmx_redirect, int_or_none, service_errors
from otklik.proposals import services
from otklik.proposals.chart import volume_svg
from otklik.proposals.models import ProposalStatus
from otklik.proposals.selectors import (
    ProposalFilters,
    can_merge,
    can_review,
    has_voted,
    linked_cases,
    next_statuses,
    proposal_get_for_user,
    proposal_history,
    proposal_list,
    similar_proposals,
    top_of_month,
    topic_volume,
)

UNPROCESSABLE = 422


def _case_from(request: HttpRequest, raw: str | None) -> Case | None:
    """A case the user named (by number, «№12» or «12»), fetched through its access check."""
    case_id = int_or_none((raw or "").strip().lstrip("№#").strip())
    if case_id is None:
        return None
    return case_get_for_user(user=request.user, case_id=case_id)


@login_required
@require_GET
def proposal_index(request: HttpRequest) -> HttpResponse:
    filters = ProposalFilters(
        status=request.GET.get("status", "")
        if request.GET.get("status") in ProposalStatus.values
        else "",
        department_id=int_or_none(request.GET.get("department")),
        topic_id=int_or_none(request.GET.get("topic")),
        min_links=int_or_none(request.GET.get("min_links")) or 0,
        sort=request.GET.get("sort", "new"),
    )
    context = {
        "proposals": proposal_list(user=request.user, filters=filters)[:200],
        "top": top_of_month(user=request.user),
        "filters": filters,
        "statuses": ProposalStatus.choices,
        "departments": Department.objects.order_by("name"),
        "topics": topic_list_active(),
    }
    return render(request, "proposals/list.html", context)


def _form_context(request: HttpRequest, values: dict, errors: dict, case: Case | None) -> dict:
    return {
        "values": values,
        "errors": errors,
        "case": case,
        "topics": topic_list_active(),
        "departments": Department.objects.order_by("name"),
        "products": ProductKind.choices,
    }


@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    case = _case_from(request, source.get("case"))
    if request.method == "GET":
        values = {"title": "", "problem": "", "proposal": "", "expected_effect": ""}
        if case is not None:
            product = case.client.products.order_by("pk").values_list("kind", flat=True).first()
            values.update(
                topic=str(case.topic_id or ""),
                product_kind=product or "",
                problem=_("As in case %(ref)s: %(subject)s")
                % {
                    "ref": case.reference,
                    "subject": case.subject,
                },
            )
        return render(request, "proposals/new.html", _form_context(request, values, {}, case))
    values = {
        k: request.POST.get(k, "")
        for k in (
            "title",
            "problem",
            "proposal",
            "expected_effect",
            "topic",
            "product_kind",
            "department",
        )
    }
    topic_id = int_or_none(values["topic"])
    department_id = int_or_none(values["department"])
    try:
        proposal = services.proposal_create(
            actor=request.user,
            title=values["title"],
            problem=values["problem"],
            proposal=values["proposal"],
            expected_effect=values["expected_effect"],
            topic=topic_get(topic_id=topic_id) if topic_id else None,
            product_kind=values["product_kind"],
            department=Department.objects.filter(pk=department_id).first()
            if department_id
            else None,
            case=case,
        )
    except ServiceError as exc:
        context = _form_context(request, values, service_errors(exc), case)
        return render(request, "proposals/new.html", context, status=UNPROCESSABLE)
    messages.success(request, _("Your proposal is registered."))
    return htmx_redirect(request, reverse("proposals:detail", args=[proposal.pk]))


@login_required
@require_GET
def proposal_similar(request: HttpRequest) -> HttpResponse:
    """The suggestions under the form: «maybe it is already proposed — add your case»."""
    text = " ".join(request.GET.get(k, "") for k in ("title", "problem", "proposal"))
    case = _case_from(request, request.GET.get("case"))
    similar = similar_proposals(user=request.user, text=text)
    return render(request, "proposals/_similar.html", {"similar": similar, "case": case})


@login_required
@require_GET
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = proposal_get_for_user(user=request.user, proposal_id=proposal_id)
    volume = topic_volume(proposal=proposal)
    links = linked_cases(user=request.user, proposal=proposal)
    shown = sorted({item.link.case.client_id for item in links if item.visible})
    if shown:  # the subjects of the reader's visible cases are shown: a read of client data
        audit_records_bulk(
            actor=request.user,
            action="case.view",
            via="proposals",
            client_ids=shown,
            request=request,
            detail=f"proposal {proposal.pk}: linked cases",
        )
    context = {
        "proposal": proposal,
        "links": links,
        "votes": proposal.votes.count(),
        "voted": has_voted(user=request.user, proposal=proposal),
        "events": proposal_history(proposal=proposal),
        "volume": volume,
        "chart": volume_svg(volume),
        "next": [
            (s, ProposalStatus(s).label)
            for s in next_statuses(user=request.user, proposal=proposal)
        ],
        "can_review": can_review(user=request.user, proposal=proposal),
        "can_merge": can_merge(user=request.user),
        "errors": {},
        "today": date.today().isoformat(),
        "product_label": dict(ProductKind.choices).get(proposal.product_kind, ""),
    }
    return render(request, "proposals/detail.html", context)


def _back(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return htmx_redirect(request, reverse("proposals:detail", args=[proposal_id]))


@login_required
@require_POST
def proposal_support(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = proposal_get_for_user(user=request.user, proposal_id=proposal_id)
    try:
        case = _case_from(request, request.POST.get("case"))
        services.proposal_support(
            actor=request.user,
            proposal=proposal,
            case=case,
            comment=request.POST.get("comment", ""),
        )
    except ServiceError as exc:
        messages.error(request, " ".join(service_errors(exc).values()))
    else:
        messages.success(request, _("Thank you: your support is counted."))
    return _back(request, proposal.pk)


@login_required
@require_POST
def proposal_transition(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = proposal_get_for_user(user=request.user, proposal_id=proposal_id)
    if not can_review(user=request.user, proposal=proposal):
        raise PermissionDenied
    raw_date = request.POST.get("implemented_on", "")
    try:
        implemented_on = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        messages.error(request, _("Give the date as YYYY-MM-DD."))
        return _back(request, proposal.pk)
    try:
        services.proposal_transition(
            actor=request.user,
            proposal=proposal,
            to=request.POST.get("to", ""),
            reason=request.POST.get("reason", ""),
            implemented_on=implemented_on,
        )
    except ServiceError as exc:
        messages.error(request, " ".join(service_errors(exc).values()))
    return _back(request, proposal.pk)


@login_required
@require_POST
def proposal_merge(request: HttpRequest, proposal_id: int) -> HttpResponse:
    if not can_merge(user=request.user):
        raise PermissionDenied
    source = proposal_get_for_user(user=request.user, proposal_id=proposal_id)
    target_id = int_or_none(request.POST.get("target", "").strip().lstrip("#№"))
    if target_id is None:
        messages.error(request, _("Give the number of the proposal to merge into."))
        return _back(request, source.pk)
    target = proposal_get_for_user(user=request.user, proposal_id=target_id)
    try:
        services.proposal_merge(actor=request.user, source=source, target=target)
    except ServiceError as exc:
        messages.error(request, " ".join(service_errors(exc).values()))
        return _back(request, source.pk)
    messages.success(request, _("Merged: the cases and votes moved along."))
    return _back(request, target.pk)
