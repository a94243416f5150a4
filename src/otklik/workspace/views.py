"""The operator workspace: queue, client search, client card and case page.

Views only translate HTTP into selector/service calls and back: every fetch goes through
a selector that checks visibility (404 otherwise), every write through a service whose
`ServiceError` is shown next to the offending field. htmx requests get page fragments,
plain requests full pages, so every screen also works without JavaScript.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.audit.services import audit_records_bulk
from otklik.audit.spool import audit_read_record
from otklik.cases import services as case_services
from otklik.cases.freshness import StaleReply, parse_seen, reply_guard
from otklik.cases.lifecycle import allowed_targets
from otklik.cases.models import CaseStatus, MessageVisibility, Priority
from otklik.cases.selectors import (
    QueueFilters,
    can_edit_case,
    can_open_cases,
    case_get_for_user,
    case_get_viewed,
    case_owner_choices,
    case_queue,
    case_timeline,
    page_of,
    topic_get,
    topic_list_active,
)
from otklik.cases.selectors import (
    client_card as client_card_selector,
)
from otklik.clients.identifiers import can_view_full_identifiers, client_identifiers_reveal
from otklik.clients.models import ChannelKind
from otklik.clients.selectors import (
    client_contact_list,
    client_get_for_user,
    client_get_viewed,
    client_products,
)
from otklik.clients.selectors import (
    client_search as client_search_selector,
)
from otklik.common.errors import ServiceError
from otklik.common.masking import mask_digits
from otklik.common.memo import shares_page_reads
from otklik.common.web import htmx_redirect as _redirect
from otklik.common.web import int_or_none as _int_or_none
from otklik.common.web import is_htmx as _is_htmx
from otklik.common.web import service_errors as _errors
from otklik.presence.models import DraftKind
from otklik.presence.services import draft_discard
from otklik.workspace.rows import queue_rows

VIA = "workspace"
INTAKE_CHANNELS = (
    ChannelKind.PHONE,
    ChannelKind.CHAT,
    ChannelKind.EMAIL,
    ChannelKind.PORTAL,
    ChannelKind.MESSENGER,
    ChannelKind.OFFICE,
)
#: Status codes the page uses for "your input was refused"; htmx is told to swap them.
UNPROCESSABLE = 422


# --- queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueView:
    filters: QueueFilters
    page: int


def _queue_params(request: HttpRequest) -> QueueView:
    get = request.GET
    user = request.user
    # A supervisor without a team has no "team" queue; their natural view is everything.
    default_scope = "all" if user.sees_everything and not user.team_id else "team"
    scope = get.get("scope", default_scope)
    if scope not in ("mine", "team", "all") or (scope == "all" and not user.sees_everything):
        scope = default_scope
    status = get.get("status", "open")
    if status not in ("open", "any", *CaseStatus.values):
        status = "open"
    channel = get.get("channel", "")
    if channel not in ChannelKind.values:
        channel = ""
    sort = get.get("sort", "oldest")
    if sort not in ("oldest", "newest", "priority", "due"):
        sort = "oldest"
    filters = QueueFilters(
        scope=scope, status=status, channel=channel, overdue=get.get("overdue") == "1", sort=sort
    )
    return QueueView(filters=filters, page=max(_int_or_none(get.get("page")) or 1, 1))


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    params = _queue_params(request)
    rows, has_next = page_of(
        case_queue(user=request.user, filters=params.filters),
        page=params.page,
        size=settings.QUEUE_PAGE_SIZE,
    )
    now = timezone.now()
    context = {
        "cases": rows,
        "rows": queue_rows(rows, now=now),
        "filters": params.filters,
        "page": params.page,
        "has_next": has_next,
        "has_prev": params.page > 1,
        "now": now,
        "statuses": CaseStatus.choices,
        "channels": ChannelKind.choices,
        "can_see_all": request.user.sees_everything,
    }
    if _is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        return render(request, "workspace/_queue_results.html", context)
    return render(request, "workspace/queue.html", context)


# --- client search -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def client_search(request: HttpRequest) -> HttpResponse:
    """Search by POST only: a name, phone or card number in the address would stay in the
    access logs of every server and proxy on the way. A GET shows the empty form; a GET
    that carries a query is sent back to it without searching or repeating the query."""
    if request.method == "GET":
        if "q" in request.GET:
            messages.warning(
                request,
                _("Search from this form: a query in the page address would stay in server logs."),
            )
            return HttpResponseRedirect(reverse("workspace:client_search"), status=303)
        context = {"query": "", "results": [], "searched": False}
        return render(request, "workspace/client_search.html", context)
    query = request.POST.get("q", "").strip()[:200]
    results = client_search_selector(user=request.user, query=query) if query else []
    if results:
        audit_records_bulk(
            actor=request.user,
            action="client.search",
            via=VIA,
            request=request,
            client_ids=[c.pk for c in results],
            detail=f"q={mask_digits(query)}",
        )
    context = {"query": query, "results": results, "searched": len(query) >= 2}
    if _is_htmx(request) and request.headers.get("HX-Target") in (
        "search-results",
        "incoming-results",
    ):
        return render(request, "workspace/_search_results.html", context)
    return render(request, "workspace/client_search.html", context)


# --- client card -------------------------------------------------------------------------


def _intake_context(
    client, channel: str, values: dict | None = None, errors: dict | None = None
) -> dict[str, Any]:
    return {
        "client": client,
        "intake_channel": channel,
        "intake_channel_label": ChannelKind(channel).label,
        "intake_values": values or {"priority": str(Priority.NORMAL)},
        "intake_errors": errors or {},
        "topics": list(topic_list_active()),
        "priorities": Priority.choices,
    }


@shares_page_reads
def _render_card(
    request: HttpRequest, client_id: int, *, status: int = 200, extra: dict | None = None
) -> HttpResponse:
    card = client_card_selector(user=request.user, client_id=client_id)
    audit_read_record(
        actor=request.user,
        action="client.view",
        via=VIA,
        client_id=card.client.pk,
        obj=card.client,
        request=request,
    )
    channel = request.GET.get("channel", ChannelKind.PHONE)
    if channel not in ChannelKind.values:
        channel = ChannelKind.PHONE
    context: dict[str, Any] = {
        "card": card,
        "client": card.client,
        "intake_channels": [(c.value, c.label) for c in INTAKE_CHANNELS],
        "channels": ChannelKind.choices,
        "current_channel": channel,
        "can_open_cases": can_open_cases(user=request.user),
        "editable_case_ids": {
            c.pk for c in card.open_cases if can_edit_case(user=request.user, case=c)
        },
        "can_reveal_identifiers": can_view_full_identifiers(request.user),
        "can_review_access": request.user.sees_everything,
    }
    intake = request.GET.get("intake", "")
    if intake in ChannelKind.values and context["can_open_cases"]:
        context.update(_intake_context(card.client, intake))
    context.update(extra or {})
    return render(request, "workspace/client_card.html", context, status=status)


@login_required
@require_GET
def client_card(request: HttpRequest, client_id: int) -> HttpResponse:
    return _render_card(request, client_id)


@login_required
@require_POST
def identifiers_reveal(request: HttpRequest, client_id: int) -> HttpResponse:
    """«Показать полностью»: the full card and account numbers, for a reason typed by the
    member of staff, recorded in the access log. Everyone else gets a plain refusal (403)."""
    client = client_get_for_user(user=request.user, client_id=client_id)
    reason = request.POST.get("reason", "")
    context: dict[str, Any] = {"client": client, "reveal_reason": reason, "reveal_errors": {}}
    status = 200
    try:
        context["revealed"] = client_identifiers_reveal(
            user=request.user, client=client, reason=reason, via=VIA, request=request
        )
    except PermissionDenied as exc:
        return HttpResponseForbidden(str(exc), content_type="text/plain; charset=utf-8")
    except ServiceError as exc:
        context["reveal_errors"] = _errors(exc)
        status = UNPROCESSABLE
    if _is_htmx(request):
        return render(request, "workspace/_identifiers_reveal.html", context, status=status)
    return _render_card(request, client.pk, status=status, extra=context)


@login_required
@require_GET
def intake_form(request: HttpRequest, client_id: int) -> HttpResponse:
    """The inline "new case" form for one channel (an htmx fragment)."""
    client = client_get_for_user(user=request.user, client_id=client_id)
    if not can_open_cases(user=request.user):
        raise PermissionDenied
    channel = request.GET.get("channel", ChannelKind.PHONE)
    if channel not in ChannelKind.values:
        channel = ChannelKind.PHONE
    if not _is_htmx(request):
        return HttpResponseRedirect(
            reverse("workspace:client_card", args=[client.pk]) + f"?intake={channel}#intake"
        )
    return render(request, "workspace/_intake_form.html", _intake_context(client, channel))


@login_required
@require_POST
def intake_submit(request: HttpRequest, client_id: int) -> HttpResponse:
    """Register the contact and open a new case with it, then go to the case."""
    client = client_get_for_user(user=request.user, client_id=client_id)
    if not can_open_cases(user=request.user):
        raise PermissionDenied
    post = request.POST
    channel = post.get("channel", "")
    values = {k: post.get(k, "") for k in ("subject", "topic", "priority", "summary")}
    errors: dict[str, str] = {}
    topic = None
    if values["topic"]:
        topic = topic_get(topic_id=_int_or_none(values["topic"]) or 0)
        if topic is None:
            errors["topic"] = _("Choose a topic from the list.")
    priority = _int_or_none(values["priority"]) or Priority.NORMAL
    if not errors:
        try:
            interaction = case_services.interaction_register(
                actor=request.user,
                client=client,
                channel=channel,
                new_case_subject=values["subject"],
                topic=topic,
                priority=priority,
                summary=values["summary"],
            )
        except ServiceError as exc:
            errors = _errors(exc)
            if "topic_id" in errors:
                errors["topic"] = errors.pop("topic_id")
        else:
            messages.success(
                request, _("Case %(ref)s opened.") % {"ref": interaction.case.reference}
            )
            return _redirect(request, reverse("workspace:case_detail", args=[interaction.case_id]))
    if channel not in ChannelKind.values:
        errors.setdefault("channel", _("Choose a channel."))
        channel = ChannelKind.PHONE
    context = _intake_context(client, channel, values, errors)
    if _is_htmx(request):
        return render(request, "workspace/_intake_form.html", context, status=UNPROCESSABLE)
    return _render_card(request, client.pk, status=UNPROCESSABLE, extra=context)


@login_required
@require_POST
def case_continue(request: HttpRequest, case_id: int) -> HttpResponse:
    """Register a new contact on an existing case ("continue on this channel") and open it."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    channel = request.POST.get("channel", ChannelKind.PHONE)
    try:
        case_services.interaction_register(
            actor=request.user, client=case.client, channel=channel, case=case
        )
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
        return _redirect(request, reverse("workspace:client_card", args=[case.client_id]))
    messages.success(request, _("Contact registered on case %(ref)s.") % {"ref": case.reference})
    return _redirect(request, reverse("workspace:case_detail", args=[case.pk]))


# --- case page ---------------------------------------------------------------------------


def _case_context(request: HttpRequest, case, **extra) -> dict[str, Any]:
    editable = can_edit_case(user=request.user, case=case)
    context: dict[str, Any] = {
        "case": case,
        "client": case.client,
        "editable": editable,
        "targets": [(s, CaseStatus(s).label) for s in allowed_targets(case.status)]
        if editable
        else [],
        "timeline": case_timeline(case=case),
        "now": timezone.now(),
        "visibilities": MessageVisibility.choices
        if editable
        else [(MessageVisibility.INTERNAL, MessageVisibility.INTERNAL.label)],
        "message_values": {"visibility": MessageVisibility.INTERNAL, "body": ""},
        "message_errors": {},
        "edit_values": {
            "subject": case.subject,
            "topic": str(case.topic_id or ""),
            "priority": str(case.priority),
            "owner": str(case.owner_id or ""),
        },
        "edit_errors": {},
    }
    context.update(extra)
    return context


@shares_page_reads
def _render_case(request: HttpRequest, case, *, status: int = 200, **extra) -> HttpResponse:
    audit_read_record(
        actor=request.user,
        action="case.view",
        via=VIA,
        client_id=case.client_id,
        obj=case,
        request=request,
    )
    context = _case_context(request, case, **extra)
    context.update(
        {
            "contacts": client_contact_list(client=case.client),
            "products": client_products(client=case.client),
            "topics": list(topic_list_active()),
            "priorities": Priority.choices,
            "owners": case_owner_choices(case=case),
        }
    )
    return render(request, "workspace/case_detail.html", context, status=status)


@login_required
@require_GET
@shares_page_reads
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    return _render_case(request, case)


@login_required
@require_GET
def case_header(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case header alone, re-fetched on the case's live events (defect 8): the status
    badge and the transitions follow a department's answer without a reload."""
    case = case_get_viewed(request=request, case_id=case_id, via=VIA)
    editable = can_edit_case(user=request.user, case=case)
    context = {
        "case": case,
        "client": case.client,
        "editable": editable,
        "targets": [(s, CaseStatus(s).label) for s in allowed_targets(case.status)]
        if editable
        else [],
        "now": timezone.now(),
    }
    return render(request, "workspace/_case_header.html", context)


@login_required
@require_GET
def client_products_fragment(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's products alone, re-fetched when an action changed one (defect 8): after
    «disable mobile internet» the tariff's reserve is gone without «Refresh the card»."""
    client = client_get_viewed(request=request, client_id=client_id, via=VIA)
    case = None
    case_id = _int_or_none(request.GET.get("case", ""))
    if case_id:
        case = case_get_for_user(user=request.user, case_id=case_id)
    context = {"client": client, "case": case, "products": client_products(client=client)}
    return render(request, "workspace/_products.html", context)


@login_required
@require_POST
def case_transition(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    target = request.POST.get("status", "")
    try:
        case_services.case_transition(actor=request.user, case=case, to_status=target)
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        messages.success(
            request, _("Status changed to «%(status)s».") % {"status": case.get_status_display()}
        )
    return _redirect(request, reverse("workspace:case_detail", args=[case.pk]))


@login_required
@require_POST
def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    post = request.POST
    values = {k: post.get(k, "") for k in ("subject", "topic", "priority", "owner")}
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {"subject": values["subject"]}
    topic_id = _int_or_none(values["topic"])
    if topic_id != case.topic_id:  # an archived topic the case already has may stay
        topic = topic_get(topic_id=topic_id) if topic_id else None
        if values["topic"] and topic is None:
            errors["topic"] = _("Choose a topic from the list.")
        changes["topic"] = topic
    priority = _int_or_none(values["priority"])
    if priority is None:
        errors["priority"] = _("Choose a priority.")
    changes["priority"] = priority
    if values["owner"]:
        owner_id = _int_or_none(values["owner"])
        owner = next((u for u in case_owner_choices(case=case) if u.pk == owner_id), None)
        if owner is None:
            errors["owner"] = pgettext("case", "Choose an owner from the list.")
        changes["owner"] = owner
    else:
        changes["owner"] = None
    if not errors:
        try:
            case_services.case_update(actor=request.user, case=case, **changes)
        except ServiceError as exc:
            errors = _errors(exc)
            for api_name, name in (("topic_id", "topic"), ("owner_id", "owner")):
                if api_name in errors:
                    errors[name] = errors.pop(api_name)
        else:
            messages.success(request, _("Case saved."))
            return _redirect(request, reverse("workspace:case_detail", args=[case.pk]))
    case = case_get_for_user(user=request.user, case_id=case.pk)  # undo in-memory edits
    return _render_case(request, case, status=UNPROCESSABLE, edit_values=values, edit_errors=errors)


@login_required
@require_POST
def message_create(request: HttpRequest, case_id: int) -> HttpResponse:
    """Add a note or a reply. htmx gets the fresh form plus out-of-band header and timeline."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    values = {
        "body": request.POST.get("body", ""),
        "visibility": request.POST.get("visibility", MessageVisibility.INTERNAL),
    }
    held = None
    try:
        with transaction.atomic():
            if values["visibility"] == MessageVisibility.PUBLIC:  # no reply sent blind
                seen = parse_seen(request.POST.get("seen"))
                reply_guard(case=case, seen=seen, sender=request.user)
            case_services.message_add(
                actor=request.user, case=case, body=values["body"], visibility=values["visibility"]
            )
    except ServiceError as exc:
        errors = {} if isinstance(exc, StaleReply) else _errors(exc)
        held = exc.changes if isinstance(exc, StaleReply) else None
        if _is_htmx(request):
            context = _case_context(
                request, case, message_values=values, message_errors=errors, held_changes=held
            )
            return render(request, "workspace/_message_form.html", context, status=UNPROCESSABLE)
        return _render_case(
            request,
            case,
            status=UNPROCESSABLE,
            message_values=values,
            message_errors=errors,
            held_changes=held,
        )
    draft_discard(user=request.user, case=case, kind=DraftKind.MESSAGE)
    if not _is_htmx(request):
        return HttpResponseRedirect(reverse("workspace:case_detail", args=[case.pk]) + "#timeline")
    case = case_get_for_user(user=request.user, case_id=case.pk)
    context = _case_context(
        request, case, oob=True, message_values={"visibility": values["visibility"], "body": ""}
    )
    return render(request, "workspace/_message_added.html", context)
