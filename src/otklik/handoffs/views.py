"""Department handoffs in the browser: the department queue, a handoff's page, the case panel.

Views translate HTTP into selector/service calls: every fetch goes through a selector that
checks visibility (404 otherwise), every write through a service whose `ServiceError` is
shown next to the field. htmx requests get fragments; plain requests full pages.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from otklik.audit.services import audit_record
from otklik.cases.freshness import StaleReply, parse_seen, reply_guard
from otklik.cases.selectors import case_get_for_user
from otklik.clients.models import Reachability
from otklik.common.errors import ServiceError
from otklik.common.uploads import file_download
from otklik.common.web import htmx_redirect as _redirect
from otklik.common.web import int_or_none as _int_or_none
from otklik.common.web import is_htmx as _is_htmx
from otklik.common.web import service_errors as _errors
from otklik.handoffs import services
from otklik.handoffs.models import HandoffStatus
from otklik.handoffs.selectors import (
    QUEUE_STATUSES,
    can_control_case,
    can_work_handoff,
    client_reachability,
    department_list,
    department_queue,
    handoff_attachment_get,
    handoff_get_for_user,
    handoff_history,
    handoff_row,
    pending_question,
)

VIA = "workspace"
UNPROCESSABLE = 422


# --- department queue ------------------------------------------------------------------


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.role == "specialist" or user.sees_everything):
        raise PermissionDenied
    status = request.GET.get("status", "active")
    if status not in QUEUE_STATUSES:
        status = "active"
    rows = department_queue(user=user, status=status)
    context = {
        "rows": rows,
        "status": status,
        "status_choices": [
            ("active", _("Waiting for an answer")),
            ("mine", _("Taken by me")),
            *[(value, label) for value, label in HandoffStatus.choices],
            ("all", _("All")),
        ],
        "department": user.department,
    }
    if _is_htmx(request) and request.headers.get("HX-Target") == "handoff-queue-results":
        return render(request, "handoffs/_queue_results.html", context)
    return render(request, "handoffs/queue.html", context)


# --- one handoff -----------------------------------------------------------------------


def _detail_context(request: HttpRequest, handoff, **extra) -> dict[str, Any]:
    case = handoff.case
    context: dict[str, Any] = {
        "handoff": handoff,
        "row": handoff_row(handoff, timezone.now()),
        "case": case,
        "client": case.client,
        "history": handoff_history(handoff=handoff),
        "reach": client_reachability(client=case.client, user=request.user),
        "reachability_choices": Reachability.choices,
        "can_work": can_work_handoff(user=request.user, handoff=handoff),
        "can_control": can_control_case(user=request.user, case=case),
        "pending": pending_question(handoff=handoff),
        "values": {},
        "errors": {},
        "next_url": request.get_full_path(),
    }
    context.update(extra)
    return context


def _render_detail(request: HttpRequest, handoff, *, status: int = 200, **extra) -> HttpResponse:
    audit_record(
        actor=request.user,
        action="handoff.view",
        via=VIA,
        client_id=handoff.case.client_id,
        obj=handoff,
        request=request,
    )
    return render(
        request, "handoffs/detail.html", _detail_context(request, handoff, **extra), status=status
    )


@login_required
@require_GET
def detail(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = handoff_get_for_user(user=request.user, handoff_id=handoff_id)
    return _render_detail(request, handoff)


def _act(request: HttpRequest, handoff_id: int, action, success: str, **fields) -> HttpResponse:
    """Run one workflow step from the handoff page; errors re-render the page (422)."""
    handoff = handoff_get_for_user(user=request.user, handoff_id=handoff_id)
    try:
        action(actor=request.user, handoff=handoff, **fields)
    except ServiceError as exc:
        values = {k: v for k, v in fields.items() if isinstance(v, str)}
        return _render_detail(
            request, handoff, status=UNPROCESSABLE, values=values, errors=_errors(exc)
        )
    messages.success(request, success)
    return _redirect(request, _next_url(request, reverse("handoffs:detail", args=[handoff.pk])))


@login_required
@require_POST
def take(request: HttpRequest, handoff_id: int) -> HttpResponse:
    return _act(request, handoff_id, services.handoff_take, _("The handoff is yours now."))


@login_required
@require_POST
def ask(request: HttpRequest, handoff_id: int) -> HttpResponse:
    return _act(
        request,
        handoff_id,
        services.handoff_ask_owner,
        _("Question sent to the case owner."),
        question=request.POST.get("question", ""),
    )


@login_required
@require_POST
def answer(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = handoff_get_for_user(user=request.user, handoff_id=handoff_id)
    try:  # the case may have moved on for the client while the specialist wrote
        reply_guard(
            case=handoff.case, seen=parse_seen(request.POST.get("seen")), sender=request.user
        )
    except StaleReply as exc:
        return _render_detail(
            request,
            handoff,
            status=UNPROCESSABLE,
            values={"answer": request.POST.get("answer", "")},
            held_changes=exc.changes,
        )
    return _act(
        request,
        handoff_id,
        services.handoff_answer,
        _("Answer sent; it is on the case now."),
        answer=request.POST.get("answer", ""),
        files=request.FILES.getlist("attachments"),
    )


def _next_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def _case_panel_response(request: HttpRequest, case, *, status: int = 200, **extra):
    """The case's handoff panel: a fragment for htmx, a small page otherwise."""
    audit_record(
        actor=request.user,
        action="case.handoffs",
        via=VIA,
        client_id=case.client_id,
        obj=case,
        request=request,
    )
    context = {"case": case, "client": case.client, **extra}
    template = "handoffs/_case_panel.html" if _is_htmx(request) else "handoffs/case_panel_page.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def reply(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """The owner answers the specialist's question (from the case panel or the handoff page)."""
    handoff = handoff_get_for_user(user=request.user, handoff_id=handoff_id)
    text = request.POST.get("reply", "")
    try:
        services.handoff_owner_reply(actor=request.user, handoff=handoff, reply=text)
    except ServiceError as exc:
        return _case_panel_response(
            request,
            handoff.case,
            status=UNPROCESSABLE,
            reply_errors={handoff.pk: " ".join(_errors(exc).values())},
            reply_values={handoff.pk: text},
        )
    if _is_htmx(request):
        return _case_panel_response(request, handoff.case)
    messages.success(request, _("Reply sent to %(d)s.") % {"d": handoff.department.name})
    return HttpResponseRedirect(
        _next_url(request, reverse("workspace:case_detail", args=[handoff.case_id]))
    )


@login_required
@require_POST
def cancel(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = handoff_get_for_user(user=request.user, handoff_id=handoff_id)
    try:
        services.handoff_cancel(
            actor=request.user, handoff=handoff, reason=request.POST.get("reason", "")
        )
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        messages.success(request, _("Handoff cancelled."))
    return _redirect(
        request, _next_url(request, reverse("workspace:case_detail", args=[handoff.case_id]))
    )


@login_required
@require_GET
def attachment(request: HttpRequest, handoff_id: int, attachment_id: int) -> HttpResponse:
    """Download a file only through its handoff's permission check, never a public URL."""
    handoff = handoff_get_for_user(user=request.user, handoff_id=handoff_id)
    item = handoff_attachment_get(handoff=handoff, attachment_id=attachment_id)
    try:
        stream = item.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("file is gone") from exc
    audit_record(
        actor=request.user,
        action="handoff.attachment",
        via=VIA,
        client_id=handoff.case.client_id,
        obj=item,
        request=request,
        detail=item.name,
    )
    return file_download(stream, name=item.name, content_type=item.content_type, inline=False)


# --- the case panel --------------------------------------------------------------------


@login_required
@require_GET
def case_panel(request: HttpRequest, case_id: int) -> HttpResponse:
    """The panel alone, for htmx refreshes on `live:case-<id>`."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    if not _is_htmx(request):
        return HttpResponseRedirect(reverse("workspace:case_detail", args=[case.pk]))
    return _case_panel_response(request, case)


@login_required
@require_GET
def case_banner(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    return render(request, "handoffs/_case_banner.html", {"case": case})


@login_required
@require_POST
def send(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    values = {
        "department": request.POST.get("department", ""),
        "question": request.POST.get("question", ""),
    }
    department = None
    errors: dict[str, str] = {}
    department_id = _int_or_none(values["department"])
    if department_id is not None:
        department = department_list().filter(pk=department_id).first()
    if department is None:
        errors["department"] = _("Choose a department.")
    if not errors:
        try:
            handoff = services.handoff_send(
                actor=request.user,
                case=case,
                department=department,
                question=values["question"],
                files=request.FILES.getlist("attachments"),
            )
        except ServiceError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("Question sent to %(department)s; you will be told of every change.")
                % {"department": handoff.department.name},
            )
            return _redirect(request, reverse("workspace:case_detail", args=[case.pk]))
    return _case_panel_response(
        request, case, status=UNPROCESSABLE, send_values=values, send_errors=errors
    )


@login_required
@require_POST
def watch(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    try:
        if request.POST.get("watch") == "0":
            services.case_unwatch(actor=request.user, case=case)
        else:
            services.case_watch(actor=request.user, case=case)
    except ServiceError as exc:
        return _case_panel_response(
            request, case, status=UNPROCESSABLE, panel_error=" ".join(_errors(exc).values())
        )
    if _is_htmx(request):
        return _case_panel_response(request, case)
    return HttpResponseRedirect(reverse("workspace:case_detail", args=[case.pk]))


@login_required
@require_POST
def reachability(request: HttpRequest, case_id: int, contact_id: int) -> HttpResponse:
    """Record how the client can be reached on one contact; anyone on the case may."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    contact = case.client.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise Http404("contact not found")
    values = {
        "reachability": request.POST.get("reachability", ""),
        "note": request.POST.get("note", ""),
    }
    errors: dict[str, str] = {}
    try:
        services.case_contact_set_reachability(
            actor=request.user,
            case=case,
            contact=contact,
            reachability=values["reachability"],
            note=values["note"],
        )
    except ServiceError as exc:
        errors = _errors(exc)
    status = UNPROCESSABLE if errors else 200
    if _is_htmx(request):
        context = {
            "case": case,
            "reach": client_reachability(client=case.client, user=request.user),
            "reachability_choices": Reachability.choices,
            "reach_errors": {contact.pk: " ".join(errors.values())} if errors else {},
            "next_url": request.POST.get("next", ""),
        }
        return render(request, "handoffs/_reachability.html", context, status=status)
    for message in errors.values():
        messages.error(request, message)
    if not errors:
        messages.success(request, _("Reachability recorded."))
    return HttpResponseRedirect(
        _next_url(request, reverse("workspace:case_detail", args=[case.pk]))
    )
