"""Chat pages and endpoints. Thin: parse, call a service or selector, render.

The widget API (/chat/api/…) is authenticated by the visitor token in the X-Chat-Token
header (no cookies, hence no CSRF), and answers CORS for the embedding sites only.
Operator pages use the staff session and CSRF as everywhere else.
"""

import json
import math
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.accounts.models import Department, Role, Team, User
from otklik.chat import services
from otklik.chat.files import IMAGE_TYPES, check_attachment
from otklik.chat.limits import ChatThrottled
from otklik.chat.models import ConversationStatus
from otklik.chat.origins import is_own_origin, is_widget_origin
from otklik.chat.selectors import (
    attachment_from_signed,
    can_write,
    chat_metrics,
    chat_queue,
    conversation_for_visitor,
    conversation_get_for_user,
    conversation_state,
    message_json,
    messages_after,
    recent_decisions,
    unanswered_queries,
)
from otklik.common.errors import ConflictError
from otklik.common.uploads import file_download

POLL_MAX_WAIT = 20.0
POLL_STEP = 0.25

# --- widget API -------------------------------------------------------------------------


def _errors(exc: ValidationError) -> dict:
    if hasattr(exc, "message_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and is_widget_origin(origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "Content-Type, X-Chat-Token"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def widget_api(view):
    """CORS for allowed embedding sites, 403 for other sites, JSON errors from services."""

    @csrf_exempt
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        origin = request.headers.get("Origin")
        if origin and not is_widget_origin(origin):
            return JsonResponse({"error": "origin not allowed"}, status=403)
        if request.method == "OPTIONS":
            return _cors(request, HttpResponse(status=204))
        try:
            response = view(request, *args, **kwargs)
        except ConflictError as exc:
            response = JsonResponse({"errors": _errors(exc)}, status=409)
        except ChatThrottled as exc:
            response = JsonResponse({"errors": _errors(exc)}, status=429)
            wait = (exc.retry_at - timezone.now()).total_seconds()
            response["Retry-After"] = str(max(math.ceil(wait), 1))
        except ValidationError as exc:
            response = JsonResponse({"errors": _errors(exc)}, status=400)
        return _cors(request, response)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _visitor_conversation(request: HttpRequest, conversation_id: int):
    token = request.headers.get("X-Chat-Token") or request.POST.get("token", "")
    conversation = conversation_for_visitor(conversation_id=conversation_id, token=token)
    if conversation is None:
        raise Http404("chat not found")
    return conversation


def _json_body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@widget_api
@require_http_methods(["POST", "OPTIONS"])
def api_start(request: HttpRequest) -> JsonResponse:
    """A new chat. On the portal (same site) the logged-in client is attached at once, and
    their open chat, if any, resumes on this device instead (story 002: chats №1 and №4)."""
    from otklik.portal.auth import portal_client

    client = None
    origin = request.headers.get("Origin", "")
    if not origin or is_own_origin(origin):
        client = portal_client(request)
    conversation, token, resumed = services.conversation_start_or_resume(
        client=client, origin=origin, ip=request.META.get("REMOTE_ADDR") or "-"
    )
    return JsonResponse(
        {
            "conversation": conversation.pk,
            "token": token,
            "resumed": resumed,
            **_state(conversation),
        },
        status=200 if resumed else 201,
    )


def _state(conversation) -> dict:
    return {"state": conversation_state(conversation)}


@widget_api
@require_http_methods(["GET", "OPTIONS"])
def api_poll(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """Long-polling fallback: messages after `after_seq`, waiting up to `wait` seconds."""
    conversation = _visitor_conversation(request, conversation_id)
    try:
        after = max(int(request.GET.get("after_seq", 0)), 0)
        wait = min(max(float(request.GET.get("wait", 0)), 0.0), POLL_MAX_WAIT)
    except ValueError:
        return JsonResponse({"errors": {"after_seq": ["not a number"]}}, status=400)
    deadline = time.monotonic() + wait
    while True:
        found = messages_after(conversation_id=conversation.pk, after_seq=after, staff=False)
        if found or time.monotonic() >= deadline:
            break
        time.sleep(POLL_STEP)
    conversation.refresh_from_db()
    return JsonResponse({"messages": [message_json(m) for m in found], **_state(conversation)})


@widget_api
@require_http_methods(["POST", "OPTIONS"])
def api_post(request: HttpRequest, conversation_id: int) -> JsonResponse:
    conversation = _visitor_conversation(request, conversation_id)
    data = _json_body(request)
    message, created = services.visitor_post(
        conversation=conversation,
        body=str(data.get("body") or ""),
        client_msg_id=str(data.get("client_msg_id") or ""),
    )
    return _ack(message, created)


def _ack(message, created: bool) -> JsonResponse:
    return JsonResponse(
        {
            "client_msg_id": message.client_msg_id,
            "id": message.pk,
            "seq": message.seq,
            "duplicate": not created,
            "message": message_json(message),
        },
        status=201 if created else 200,
    )


@widget_api
@require_http_methods(["POST", "OPTIONS"])
def api_upload(request: HttpRequest, conversation_id: int) -> JsonResponse:
    conversation = _visitor_conversation(request, conversation_id)
    checked = check_attachment(request.FILES.get("file"))
    message, created = services.visitor_post(
        conversation=conversation,
        body=request.POST.get("body", ""),
        client_msg_id=request.POST.get("client_msg_id", ""),
        attachment=checked,
    )
    return _ack(message, created)


@widget_api
@require_http_methods(["POST", "OPTIONS"])
def api_action(request: HttpRequest, conversation_id: int, action: str) -> JsonResponse:
    """feedback · read · typing · close · rate"""
    conversation = _visitor_conversation(request, conversation_id)
    data = _json_body(request)
    if action == "feedback":
        services.bot_feedback(
            conversation=conversation,
            decision_id=int(data.get("decision") or 0),
            helpful=bool(data.get("helpful")),
        )
    elif action == "read":
        services.mark_read(conversation=conversation, side="visitor", seq=int(data.get("seq") or 0))
    elif action == "typing":
        services.push_typing(conversation_id=conversation.pk, side="visitor", name="")
    elif action == "close":
        services.chat_close(conversation=conversation)
    elif action == "rate":
        try:
            score = int(data.get("score"))
        except (TypeError, ValueError):
            score = 0
        services.chat_rate(
            conversation=conversation, score=score, comment=str(data.get("comment") or "")
        )
    else:
        raise Http404
    conversation.refresh_from_db()
    return JsonResponse(_state(conversation))


@require_GET
def attachment(request: HttpRequest, signed: str) -> FileResponse:
    """A chat file by its signed link; never rendered as a page of this site."""
    message = attachment_from_signed(signed)
    handle = default_storage.open(message.attachment.name, "rb")
    inline = message.attachment_type in IMAGE_TYPES
    response = file_download(
        handle, name=message.attachment_name, content_type=message.attachment_type, inline=inline
    )
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def demo(request: HttpRequest) -> HttpResponse:
    """A bank's page with the widget embedded, for demos and the end-to-end test."""
    return render(request, "chat/demo.html")


# --- operator pages ---------------------------------------------------------------------


def _staff_only(user: User) -> None:
    if not user.is_active or not hasattr(user, "role"):
        raise PermissionDenied


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    _staff_only(request.user)
    return render(
        request,
        "chat/queue.html",
        {"queue": chat_queue(user=request.user), "metrics": chat_metrics()},
    )


@login_required
@require_POST
def accepting(request: HttpRequest) -> HttpResponse:
    services.operator_set_accepting(user=request.user, accepting=request.POST.get("on") == "1")
    return HttpResponseRedirect(reverse("chat:queue"))


def _act(request: HttpRequest, func, success: str, **kwargs) -> None:
    try:
        func(**kwargs)
        if success:
            messages.success(request, success)
    except ValidationError as exc:
        for errors in _errors(exc).values():
            for error in errors:
                messages.error(request, error)


@login_required
@require_POST
def take(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    _act(request, services.chat_take, "", actor=request.user, conversation=conversation)
    if conversation.status == ConversationStatus.ASSIGNED:
        return HttpResponseRedirect(reverse("chat:conversation", args=[conversation.pk]))
    return HttpResponseRedirect(reverse("chat:queue"))


@login_required
@require_GET
def conversation_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    from otklik.knowledge.selectors import suggest_for_case

    user = request.user
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
    transcript = messages_after(conversation_id=conversation.pk, after_seq=0, staff=True)
    suggestions = []
    if conversation.case_id:
        suggestions = suggest_for_case(user=user, case=conversation.case, limit=5).hits
    client = conversation.client
    contacts = list(client.contacts.all()) if client else []
    products = []
    if client is not None:
        from otklik.clients.selectors import client_products

        products = client_products(client=client)
    operators = User.objects.filter(
        is_active=True, role__in=[Role.OPERATOR, Role.SENIOR_OPERATOR]
    ).exclude(pk=conversation.operator_id)
    return render(
        request,
        "chat/conversation.html",
        {
            "conversation": conversation,
            "transcript": [message_json(m) for m in transcript],
            "last_seq": transcript[-1].seq if transcript else 0,
            "suggestions": suggestions,
            "client": client,
            "contacts": contacts,
            "products": products,
            "can_write": can_write(user=user, conversation=conversation),
            "can_join": user.role == Role.SPECIALIST
            and not conversation.participants.filter(pk=user.pk).exists()
            and conversation.status != ConversationStatus.CLOSED,
            "operators": operators,
            "teams": Team.objects.all(),
            "departments": Department.objects.all(),
            "decisions": conversation.bot_decisions.order_by("created_at")[:20],
        },
    )


@login_required
@require_POST
def conversation_action(request: HttpRequest, conversation_id: int, action: str) -> HttpResponse:
    """reply (no-JS fallback) · transfer · invite · join · close · identify"""
    user = request.user
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
    post = request.POST
    back = HttpResponseRedirect(reverse("chat:conversation", args=[conversation.pk]))
    if action == "reply":
        _act(
            request,
            services.staff_post,
            "",
            actor=user,
            conversation=conversation,
            body=post.get("body", ""),
            client_msg_id=post.get("client_msg_id", ""),
        )
    elif action == "transfer":
        to_user = to_team = None
        if post.get("to_user"):
            to_user = User.objects.filter(pk=post.get("to_user"), is_active=True).first()
        elif post.get("to_team"):
            to_team = Team.objects.filter(pk=post.get("to_team")).first()
        _act(
            request,
            services.chat_transfer,
            _("The chat is transferred."),
            actor=user,
            conversation=conversation,
            note=post.get("note", ""),
            to_user=to_user,
            to_team=to_team,
        )
        return HttpResponseRedirect(reverse("chat:queue"))
    elif action == "invite":
        department = Department.objects.filter(pk=post.get("department")).first()
        if department is None:
            messages.error(request, _("Choose a department."))
        else:
            _act(
                request,
                services.chat_invite,
                _("The department is invited into the chat."),
                actor=user,
                conversation=conversation,
                department=department,
                note=post.get("note", ""),
            )
    elif action == "join":
        _act(request, services.specialist_join, "", actor=user, conversation=conversation)
    elif action == "close":
        _act(
            request,
            services.chat_close,
            _("The chat is closed."),
            conversation=conversation,
            actor=user,
        )
    elif action == "identify":
        from otklik.clients.selectors import client_get_for_user

        try:
            client = client_get_for_user(user=user, client_id=int(post.get("client_id", 0)))
        except (ValueError, Http404):
            messages.error(request, _("Client not found."))
        else:
            _act(
                request,
                services.conversation_identify,
                _("The chat is linked to the client."),
                actor=user,
                conversation=conversation,
                client=client,
            )
    else:
        raise Http404
    return back


@login_required
@require_GET
def staff_poll(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The operator page's fallback when WebSockets do not get through."""
    conversation = conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    try:
        after = max(int(request.GET.get("after_seq", 0)), 0)
    except ValueError:
        after = 0
    found = messages_after(conversation_id=conversation.pk, after_seq=after, staff=True)
    return JsonResponse({"messages": [message_json(m) for m in found], **_state(conversation)})


@login_required
@require_GET
def unanswered(request: HttpRequest) -> HttpResponse:
    """For knowledge editors: what the bot could not answer, to write the missing article."""
    from otklik.knowledge.services import can_edit_knowledge

    if not (can_edit_knowledge(request.user) or request.user.sees_everything):
        raise PermissionDenied
    return render(
        request,
        "chat/unanswered.html",
        {"queries": unanswered_queries(), "decisions": recent_decisions()},
    )


def portal_chat(request: HttpRequest) -> HttpResponse:
    """The chat inside the client portal: the same widget, the client already identified."""
    from otklik.portal.auth import portal_login_required
    from otklik.portal.views import _page

    @portal_login_required
    def page(request: HttpRequest) -> HttpResponse:
        return _page(request, "chat/portal.html", {})

    return page(request)
