"""Operator pages for calls: wrap-up (who called, which case), callbacks, call figures."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from otklik.audit.services import audit_record
from otklik.cases.models import Case
from otklik.cases.selectors import case_get_for_user, cases_visible_q
from otklik.clients.selectors import client_get_for_user, client_search
from otklik.common.errors import ServiceError
from otklik.telephony import services
from otklik.telephony.selectors import (
    call_figures,
    call_get_for_user,
    callback_get_for_user,
    callbacks_open,
    calls_to_wrap_up,
    can_call_back,
)

VIA = "workspace"


def _errors(exc: ServiceError) -> list[str]:
    return [str(m) for m in exc.messages]


@login_required
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    """One call: identify the caller, then attach the call to an open case or a new one."""
    call = call_get_for_user(user=request.user, call_id=call_id)
    errors: list[str] = []
    results = []
    query = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "search":
                query = request.POST.get("q", "").strip()[:200]
                results = client_search(user=request.user, query=query) if query else []
            elif action == "identify":
                client = client_get_for_user(
                    user=request.user, client_id=_int(request.POST.get("client_id"))
                )
                services.call_identify(actor=request.user, call=call, client=client)
                return HttpResponseRedirect(reverse("telephony:call", args=[call.pk]))
            elif action == "attach":
                case = None
                if request.POST.get("case_id"):
                    case = case_get_for_user(
                        user=request.user, case_id=_int(request.POST.get("case_id"))
                    )
                interaction = services.call_attach(
                    actor=request.user,
                    call=call,
                    case=case,
                    new_case_subject="" if case else request.POST.get("subject", ""),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("The call is recorded on the case."))
                return HttpResponseRedirect(
                    reverse("workspace:case_detail", args=[interaction.case_id])
                )
        except ServiceError as exc:
            errors = _errors(exc)
    open_cases = []
    if call.client_id:
        audit_record(
            actor=request.user, action="call.view", via=VIA, client_id=call.client_id,
            obj=call, request=request,
        )  # fmt: skip
        open_cases = list(
            Case.objects.filter(cases_visible_q(request.user), client_id=call.client_id)
            .filter(is_open=True)
            .order_by("-created_at")[:20]
        )
    context = {
        "call": call,
        "open_cases": open_cases,
        "errors": errors,
        "results": results,
        "query": query,
    }
    return render(request, "telephony/call.html", context, status=400 if errors else 200)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("not found") from None


@login_required
def callbacks(request: HttpRequest) -> HttpResponse:
    """Missed calls to return, most urgent first, and the operator's calls to wrap up."""
    if not can_call_back(user=request.user):
        raise PermissionDenied
    context = {
        "callbacks": list(callbacks_open()[:200]),
        "wrap_up": list(calls_to_wrap_up(user=request.user)[:50]),
        "now": timezone.now(),
    }
    return render(request, "telephony/callbacks.html", context)


@login_required
@require_POST
def callback_call(request: HttpRequest, callback_id: int) -> HttpResponse:
    """The one click: the callback is taken and the softphone dials the number."""
    callback = callback_get_for_user(user=request.user, callback_id=callback_id)
    try:
        dial = services.callback_start(actor=request.user, callback=callback)
    except ServiceError as exc:
        for error in _errors(exc):
            messages.error(request, error)
        return HttpResponseRedirect(reverse("telephony:callbacks"))
    response = HttpResponse(status=302)
    response["Location"] = dial
    return response


@login_required
@require_POST
def callback_done(request: HttpRequest, callback_id: int) -> HttpResponse:
    callback = callback_get_for_user(user=request.user, callback_id=callback_id)
    services.callback_done(actor=request.user, callback=callback)
    return HttpResponseRedirect(reverse("telephony:callbacks"))


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    """Today's and the last 7 days' call figures: offered, answered, SL, abandoned, AHT."""
    if not request.user.sees_everything:
        raise PermissionDenied
    now = timezone.localtime()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    periods = [
        (_("Today"), call_figures(start=today, end=now + timedelta(seconds=1))),
        (
            _("7 days"),
            call_figures(start=today - timedelta(days=6), end=now + timedelta(seconds=1)),
        ),
    ]
    return render(request, "telephony/figures.html", {"periods": periods})
