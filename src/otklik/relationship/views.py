"""The manager's desk pages: portfolio, call list, client desk page, feed upload, figures.

Thin: access and reads in selectors, writes in services. Every list or page that shows
client data leaves read audits (spooled, see audit/spool.py).
"""

from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.accounts.selectors import user_get_active
from otklik.audit.spool import audit_read_record, audit_read_records
from otklik.clients.models import Segment
from otklik.common.errors import ServiceError
from otklik.common.web import int_or_none, is_htmx, service_errors
from otklik.relationship import selectors, services
from otklik.relationship.calllist import call_list, call_reasons_for
from otklik.relationship.feed import FeedRejected, feed_upload_csv
from otklik.relationship.figures import manager_figures, offers_for
from otklik.relationship.health import client_health, days_left_in_month
from otklik.relationship.models import (
    OfferStatus,
    Outcome,
    PackageLevel,
)

VIA = "workspace"


def _audit_list(request: HttpRequest, client_ids: list[int], action: str = "client.list") -> None:
    audit_read_records(
        actor=request.user, action=action, via=VIA, client_ids=client_ids, request=request
    )


def _books(request: HttpRequest) -> tuple[list[int], int | None]:
    manager_id = int_or_none(request.GET.get("manager") or request.POST.get("manager"))
    return selectors.book_managers(user=request.user, manager_id=manager_id), manager_id


@login_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    managers, manager_id = _books(request)
    filters = selectors.PortfolioFilters(
        query=request.GET.get("q", "").strip()[:100],
        segment=request.GET.get("segment", "") if request.GET.get("segment") in Segment else "",
        level=request.GET.get("level", "")[:40],
        sort=request.GET.get("sort", "name"),
        page=int_or_none(request.GET.get("page")) or 1,
    )
    page = selectors.portfolio(user=request.user, managers=managers, filters=filters)
    rows = list(page.object_list)
    _audit_list(request, [c.pk for c in rows])
    covered = selectors.covered_managers(user=request.user)
    everyone = list(selectors.managers_list())
    context: dict[str, Any] = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "segments": Segment.choices,
        "levels": PackageLevel.objects.all(),
        "sorts": selectors.SORTS,
        "manager_id": manager_id,
        "managers": everyone,
        "covered": [m for m in everyone if m.pk in covered],
        "can_assign": selectors.can_manage_books(request.user),
        "tasks": selectors.open_tasks(managers=managers),
        # One reverse per page, not one per row (a reverse was a tenth of the page's CPU).
        "client_base": reverse("relationship:client", args=[0]).removesuffix("0/"),
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "portfolio-results":
        return render(request, "relationship/_portfolio_rows.html", context)
    return render(request, "relationship/portfolio.html", context)


@login_required
@require_POST
def assign(request: HttpRequest) -> HttpResponse:
    """Move the ticked clients (or one) to another manager; supervisors and admins only."""
    if not selectors.can_manage_books(request.user):
        raise PermissionDenied
    ids = [int(i) for i in request.POST.getlist("client") if i.isdigit()][:5000]
    target_id = int_or_none(request.POST.get("to_manager"))
    target = user_get_active(user_id=target_id) if target_id else None
    clients = selectors.clients_for_assignment(user=request.user, client_ids=ids)
    try:
        moved = services.clients_assign(
            actor=request.user,
            clients=clients,
            to_manager=target,
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("Clients moved: %(n)d.") % {"n": moved})
    except ServiceError as exc:
        for err in service_errors(exc).values():
            messages.error(request, err)
    back = request.POST.get("back", "")
    return HttpResponseRedirect(
        back if back.startswith("/desk/") else reverse("relationship:portfolio")
    )


@login_required
@require_GET
def calls(request: HttpRequest) -> HttpResponse:
    managers, manager_id = _books(request)
    items = call_list(managers=managers)
    _audit_list(request, [i.client.pk for i in items])
    today = timezone.localdate()
    # One reverse each, not two per row: the list can be a hundred rows long.
    card = reverse("workspace:client_card", args=[0]).removesuffix("0/")
    outcome = reverse("relationship:call_outcome", args=[0]).removesuffix("0/outcome")
    for item in items:
        item.card_url = f"{card}{item.client_id}/"
        item.outcome_url = f"{outcome}{item.client_id}/outcome"
    return render(
        request,
        "relationship/calls.html",
        {
            "items": items,
            "outcomes": [(value, str(label)) for value, label in Outcome.choices],
            "days_left": days_left_in_month(today),
            "today": today,
            "manager_id": manager_id,
        },
    )


@login_required
@require_POST
def call_outcome(request: HttpRequest, client_id: int) -> HttpResponse:
    """The second click: the outcome of the call; the row leaves the list."""
    client = selectors.client_in_book(user=request.user, client_id=client_id)
    keys = [k for k in request.POST.getlist("reason") if k][:20]
    if not keys:
        keys = [r.key for r in call_reasons_for(client=client)]
    try:
        services.call_outcome_log(
            actor=request.user,
            client=client,
            outcome=request.POST.get("outcome", ""),
            reason_keys=keys,
        )
    except ServiceError as exc:
        return HttpResponse("; ".join(service_errors(exc).values()), status=422)
    if is_htmx(request):
        return HttpResponse("")
    return HttpResponseRedirect(reverse("relationship:calls"))


@login_required
@require_http_methods(["GET", "POST"])
def client_desk(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client on the manager's desk: service profile, health, onboarding, offers."""
    client = selectors.client_in_book(user=request.user, client_id=client_id)
    errors: dict = {}
    if request.method == "POST":
        post = request.POST
        level = PackageLevel.objects.filter(code=post.get("package_level", "")).first()
        try:
            services.profile_update(
                actor=request.user,
                client=client,
                address_as=post.get("address_as", ""),
                package_level=level,
                request=request,
                informal=post.get("informal") == "1",
                preferred_channels=post.get("preferred_channels", "")[:200],
                preferred_hours=post.get("preferred_hours", "")[:100],
                interests=post.get("interests", "")[:2000],
                inform_about=post.get("inform_about", "")[:2000],
                notes=post.get("notes", "")[:4000],
                next_contact_on=parse_date(post.get("next_contact_on", "") or "") or None,
            )
            messages.success(request, _("Profile saved."))
            return HttpResponseRedirect(reverse("relationship:client", args=[client.pk]))
        except ServiceError as exc:
            errors = service_errors(exc)
    audit_read_record(
        actor=request.user,
        action="client.view",
        via=VIA,
        client_id=client.pk,
        obj=client,
        request=request,
        detail="desk",
    )
    return render(
        request,
        "relationship/client.html",
        {
            "client": client,
            "profile": selectors.service_profile(client=client),
            "health": client_health(client=client),
            "reasons": call_reasons_for(client=client),
            "offers": offers_for(client=client),
            "levels": PackageLevel.objects.all(),
            "history": selectors.assignment_history(client=client),
            "tasks": selectors.open_tasks(managers=[client.personal_manager_id]),
            "errors": errors,
            "offer_statuses": OfferStatus.choices,
        },
    )


@login_required
@require_POST
def onboarding_step(request: HttpRequest, step_id: int) -> HttpResponse:
    step = selectors.onboarding_step_get_for_user(user=request.user, step_id=step_id)
    services.onboarding_step_done(
        actor=request.user, step=step, done=request.POST.get("done") == "1"
    )
    return HttpResponseRedirect(reverse("relationship:client", args=[step.client_id]))


@login_required
@require_POST
def task_add(request: HttpRequest, client_id: int) -> HttpResponse:
    client = selectors.client_in_book(user=request.user, client_id=client_id)
    day = parse_date(request.POST.get("due_on", "") or "")
    if day is None:
        messages.error(request, _("Give the task a date."))
    else:
        due = timezone.make_aware(datetime.combine(day, time(10, 0)))
        try:
            services.task_create(
                actor=request.user, client=client, title=request.POST.get("title", ""), due_at=due
            )
        except ServiceError as exc:
            for err in service_errors(exc).values():
                messages.error(request, err)
    return HttpResponseRedirect(reverse("relationship:client", args=[client.pk]))


@login_required
@require_POST
def task_close(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get_for_user(user=request.user, task_id=task_id)
    services.task_done(task=task)
    back = request.POST.get("back", "")
    return HttpResponseRedirect(
        back if back.startswith("/desk/") else reverse("relationship:portfolio")
    )


@login_required
@require_POST
def offer(request: HttpRequest, client_id: int) -> HttpResponse:
    client = selectors.client_in_book(user=request.user, client_id=client_id)
    rule = selectors.offer_rule_get(rule_id=int_or_none(request.POST.get("rule")))
    if rule is None:
        messages.error(request, _("No such offer."))
    else:
        services.offer_record(
            actor=request.user, client=client, rule=rule, status=request.POST.get("status", "")
        )
        messages.success(request, _("Offer outcome recorded."))
    return HttpResponseRedirect(reverse("relationship:client", args=[client.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def feed_upload(request: HttpRequest) -> HttpResponse:
    """CSV upload of the back-office aggregates: all rows valid, or nothing applied."""
    if not selectors.can_manage_books(request.user):
        raise PermissionDenied
    context: dict[str, Any] = {"result": None, "row_errors": [], "file_errors": []}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ServiceError({"file": _("Choose a CSV file.")})
            context["result"] = feed_upload_csv(data=upload.read(), actor=request.user)
        except FeedRejected as exc:
            context["row_errors"] = exc.errors
            status = 422
        except ServiceError as exc:
            context["file_errors"] = list(service_errors(exc).values())
            status = 422
    return render(request, "relationship/feed.html", context, status=status)


@login_required
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    """The manager's own figures; a supervisor sees every manager's and the team's."""
    if not selectors.has_desk(request.user):
        raise PermissionDenied
    rows = []
    if request.user.sees_everything:
        managers = list(selectors.managers_list())
        for manager in managers:
            rows.append((manager, manager_figures(managers=[manager.pk])))
        total = manager_figures(managers=[m.pk for m in managers]) if managers else None
    else:
        rows.append((request.user, manager_figures(managers=[request.user.pk])))
        total = None
    return render(request, "relationship/figures.html", {"rows": rows, "total": total})
