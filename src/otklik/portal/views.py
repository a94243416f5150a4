"""The client portal (ЛК) pages, plus the staff actions of the portal answer standard.

Views translate HTTP into selector/service calls: every read goes through a selector
scoped to the logged-in client (another client's case is a 404), every write through a
service whose `ServiceError` is shown next to the field.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.cases.freshness import StaleReply, parse_seen, reply_guard
from otklik.cases.selectors import case_get_for_user
from otklik.common.errors import ServiceError
from otklik.common.web import service_errors as _errors
from otklik.portal import selectors, services
from otklik.portal.auth import (
    SESSION_CHALLENGE,
    portal_client,
    portal_login,
    portal_login_required,
    portal_logout,
)
from otklik.presence.held import held_summary
from otklik.presence.models import DraftKind
from otklik.presence.services import draft_discard, draft_save

UNPROCESSABLE = 422


def _ip(request: HttpRequest) -> str:
    # Behind a proxy, deployments set REMOTE_ADDR from the trusted header (see README);
    # X-Forwarded-For is not read here because a client could forge it to dodge throttles.
    return request.META.get("REMOTE_ADDR") or "-"


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):
    client = portal_client(request)
    base = {"portal_client": client}
    if client is not None:
        base["unread_total"] = selectors.portal_unread_total(client=client)
    return render(request, template, {**base, **context}, status=status)


# --- login ---------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step 1: the client enters a phone or e-mail and gets a one-time code."""
    if portal_client(request) is not None:
        return HttpResponseRedirect(reverse("portal:cases"))
    identifier = ""
    errors: dict[str, str] = {}
    if request.method == "POST":
        identifier = request.POST.get("identifier", "")
        try:
            challenge = services.portal_code_request(identifier=identifier, ip=_ip(request))
        except ServiceError as exc:
            errors = _errors(exc)
        else:
            request.session[SESSION_CHALLENGE] = {
                "code_id": challenge.code_id,
                "channel": challenge.channel,
                "demo_code": challenge.demo_code,
            }
            return HttpResponseRedirect(reverse("portal:login_code"))
    return _page(
        request,
        "portal/login.html",
        {"identifier": identifier, "errors": errors},
        status=UNPROCESSABLE if errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the client enters the code. The page is the same for unknown numbers."""
    challenge = request.session.get(SESSION_CHALLENGE)
    if not challenge:
        return HttpResponseRedirect(reverse("portal:login"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            client = services.portal_code_verify(
                code_id=challenge.get("code_id"),
                code=request.POST.get("code", ""),
                ip=_ip(request),
            )
        except ServiceError as exc:
            errors = _errors(exc)
        else:
            portal_login(request, client)
            return HttpResponseRedirect(reverse("portal:cases"))
    return _page(
        request,
        "portal/login_code.html",
        {
            "channel": challenge.get("channel"),
            "demo_code": challenge.get("demo_code") if services.show_codes_enabled() else None,
            "errors": errors,
        },
        status=UNPROCESSABLE if errors else 200,
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    portal_logout(request)
    return HttpResponseRedirect(reverse("portal:login"))


# --- the client's pages --------------------------------------------------------------------


@portal_login_required
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    client = request.portal_client
    rows = selectors.portal_cases(client=client)
    return _page(request, "portal/cases.html", {"cases": rows})


def _case_page(request, case, *, status: int = 200, **extra) -> HttpResponse:
    client = request.portal_client
    entries = selectors.portal_case_messages(client=client, case=case)
    deadline = selectors.portal_case_deadline(case=case)
    context = {
        "case": case,
        "entries": entries,
        "deadline": deadline,
        "deadline_text": date_format(timezone.localtime(deadline.due_at), "j E, H:i")
        if deadline
        else "",
        "reply_values": {"body": ""},
        "reply_errors": {},
        "rating_errors": {},
        "rating_values": {},
    }
    context.update(extra)
    services.portal_case_mark_read(client=client, case=case)
    return _page(request, "portal/case_detail.html", context, status=status)


@portal_login_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """A case with its public messages; opening it marks the answers read."""
    case = selectors.portal_case_get(client=request.portal_client, case_id=case_id)
    return _case_page(request, case)


@portal_login_required
@require_POST
def case_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    client = request.portal_client
    case = selectors.portal_case_get(client=client, case_id=case_id)
    body = request.POST.get("body", "")
    try:
        services.portal_reply(client=client, case=case, body=body)
    except ServiceError as exc:
        return _case_page(
            request,
            case,
            status=UNPROCESSABLE,
            reply_values={"body": body},
            reply_errors=_errors(exc),
        )
    messages.success(request, _("Your message has been sent. We will answer here."))
    return HttpResponseRedirect(reverse("portal:case_detail", args=[case.pk]) + "#reply")


@portal_login_required
@require_POST
def message_rate(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    """Rate an answer 1–5 with a comment."""
    client = request.portal_client
    case = selectors.portal_case_get(client=client, case_id=case_id)
    message = selectors.portal_message_get(client=client, case=case, message_id=message_id)
    score, comment = request.POST.get("score", ""), request.POST.get("comment", "")
    try:
        services.portal_rating_set(
            client=client, case=case, message=message, score=score, comment=comment
        )
    except ServiceError as exc:
        return _case_page(
            request,
            case,
            status=UNPROCESSABLE,
            rating_errors={message.pk: _errors(exc)},
            rating_values={message.pk: {"score": score, "comment": comment}},
        )
    messages.success(request, _("Thank you for your rating!"))
    return HttpResponseRedirect(
        reverse("portal:case_detail", args=[case.pk]) + f"#message-{message.pk}"
    )


@portal_login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """A new request from the client: subject, text and an optional topic."""
    client = request.portal_client
    values = {"subject": "", "body": "", "topic": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        topic = selectors.portal_topic_get(client=client, topic_id=_int(values["topic"]))
        if values["topic"] and topic is None:
            errors["topic"] = _("Choose a topic from the list.")
        else:
            try:
                case = services.portal_request_open(
                    client=client, subject=values["subject"], body=values["body"], topic=topic
                )
            except ServiceError as exc:
                errors = _errors(exc)
            else:
                messages.success(
                    request,
                    _("Request %(ref)s is registered. The answer will appear here.")
                    % {"ref": case.reference},
                )
                return HttpResponseRedirect(reverse("portal:case_detail", args=[case.pk]))
    return _page(
        request,
        "portal/case_new.html",
        {
            "values": values,
            "errors": errors,
            "topics": list(selectors.portal_topics(client=client)),
        },
        status=UNPROCESSABLE if errors else 200,
    )


@portal_login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    rows = selectors.portal_notifications(client=request.portal_client)
    return _page(request, "portal/notifications.html", {"notifications": rows})


# --- staff: the portal answer standard -----------------------------------------------------


def _back_to_case(case_id: int) -> HttpResponse:
    return HttpResponseRedirect(reverse("workspace:case_detail", args=[case_id]) + "#portal")


@login_required
@require_POST
def staff_promise(request: HttpRequest, case_id: int) -> HttpResponse:
    """«Ответить в ЛК (в течение суток)»: start the portal answer deadline."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    try:
        deadline = services.portal_answer_promise(actor=request.user, case=case)
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Answer in the personal cabinet promised by %(due)s.")
            % {"due": date_format(timezone.localtime(deadline.due_at), "d.m.Y H:i")},
        )
    return _back_to_case(case.pk)


@login_required
@require_POST
def staff_answer(request: HttpRequest, case_id: int) -> HttpResponse:
    """Post the answer to the client's personal cabinet and notify the client."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    body = request.POST.get("body", "")
    try:
        with transaction.atomic():
            reply_guard(case=case, seen=parse_seen(request.POST.get("seen")), sender=request.user)
            services.portal_answer_post(
                actor=request.user,
                case=case,
                body=body,
                idempotency_key=request.POST.get("idempotency_key", ""),
            )
    except StaleReply as exc:
        # Held, not lost: the text waits in the form as a draft; the page shows what changed.
        draft_save(user=request.user, case=case, kind=DraftKind.PORTAL, body=body)
        messages.warning(request, held_summary(exc.changes))
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        draft_discard(user=request.user, case=case, kind=DraftKind.PORTAL)
        messages.success(
            request, _("The answer is in the client's personal cabinet; the client is notified.")
        )
    return _back_to_case(case.pk)


@login_required
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """The old indicators page: its figures are on the analytics dashboard now."""
    days = _int(request.GET.get("days")) or 30
    period = {1: "today", 7: "week"}.get(days, "month")
    return HttpResponseRedirect(reverse("analytics:dashboard") + f"?period={period}#kpis")
