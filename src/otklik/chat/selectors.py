"""Reads about chats. Who may see and write a chat is decided here, once."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.chat.models import (
    HANDOFF_DECISIONS,
    BotDecision,
    BotDecisionKind,
    ChatMessage,
    Conversation,
    ConversationStatus,
    hash_token,
)

FILE_SALT = "otklik.chat.file"
FILE_MAX_AGE = 7 * 24 * 3600


def conversations_visible_q(user: User) -> Q:
    """Supervisors see every chat; operators the waiting ones of their team (or of no team),
    their team's and their own; specialists the chats their department is invited into."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.sees_everything:
        return Q()
    if user.role == Role.SPECIALIST:
        if user.department_id is None:
            return Q(pk__in=[])
        return Q(departments=user.department_id)
    visible = Q(operator=user) | Q(status=ConversationStatus.QUEUED, team=None)
    if user.team_id is not None:
        visible |= Q(team_id=user.team_id)
    return visible


def conversation_get_for_user(*, user: User, conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.filter(conversations_visible_q(user), pk=conversation_id)
        .select_related("client", "case", "case__topic", "operator", "team", "chat_topic")
        .distinct()
        .first()
    )
    if conversation is None:
        raise Http404("chat not found")
    return conversation


def can_view(*, user: User, conversation: Conversation) -> bool:
    return Conversation.objects.filter(conversations_visible_q(user), pk=conversation.pk).exists()


def can_write(*, user: User, conversation: Conversation) -> bool:
    """The assigned operator, a supervisor, or a specialist who joined; never a closed chat."""
    if conversation.status == ConversationStatus.CLOSED or not user.is_active:
        return False
    if user.sees_everything:
        return True
    if user.role == Role.SPECIALIST:
        return conversation.participants.filter(pk=user.pk).exists()
    return (
        conversation.status == ConversationStatus.ASSIGNED and conversation.operator_id == user.pk
    )


def conversation_for_visitor(*, conversation_id, token: str) -> Conversation | None:
    """The chat whose visitor holds `token`, or None (no hint which part was wrong)."""
    if not token:
        return None
    try:
        pk = int(conversation_id)
    except (TypeError, ValueError):
        return None
    hashed = hash_token(token)
    return (
        Conversation.objects.filter(
            Q(visitor_token_hash=hashed) | Q(devices__token_hash=hashed), pk=pk
        )
        .select_related("operator", "rating")
        .first()
    )


def open_conversation_for_client(*, client_id: int) -> Conversation | None:
    """The client's latest chat that is not closed: the one the portal resumes."""
    return (
        Conversation.objects.filter(client_id=client_id)
        .exclude(status=ConversationStatus.CLOSED)
        .order_by("-created_at", "-pk")
        .first()
    )


def attachment_url(message: ChatMessage) -> str:
    signed = signing.dumps([message.conversation_id, message.pk], salt=FILE_SALT, compress=True)
    return reverse("chat:file", kwargs={"signed": signed})


def attachment_from_signed(signed: str) -> ChatMessage:
    try:
        conversation_id, message_id = signing.loads(signed, salt=FILE_SALT, max_age=FILE_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404("file not found") from exc
    message = ChatMessage.objects.filter(
        pk=message_id, conversation_id=conversation_id, internal=False
    ).first()
    if message is None or not message.attachment:
        raise Http404("file not found")
    return message


def message_json(message: ChatMessage) -> dict:
    """A message as both the widget and the operator page receive it (text, never HTML)."""
    author = message.author
    data = {
        "id": message.pk,
        "seq": message.seq,
        "client_msg_id": message.client_msg_id,
        "sender": message.sender_kind,
        "side": message.sender_side,
        "name": author.display_name if author is not None and not message.internal else "",
        "body": message.body,
        "internal": message.internal,
        "payload": message.payload,
        # In the site's time zone (with its offset), as every other page shows times.
        "created_at": timezone.localtime(message.created_at).isoformat(),
        "time": timezone.localtime(message.created_at).strftime("%H:%M"),
    }
    if message.attachment_name:
        data["attachment"] = {
            "name": message.attachment_name,
            "type": message.attachment_type,
            "size": message.attachment_size,
            "url": attachment_url(message),
        }
    return data


def messages_after(
    *, conversation_id: int, after_seq: int, staff: bool, limit: int = 500
) -> list[ChatMessage]:
    """Messages with seq > after_seq in order; visitors never get internal notes."""
    messages = ChatMessage.objects.filter(
        conversation_id=conversation_id, seq__gt=max(after_seq, 0)
    ).select_related("author")
    if not staff:
        messages = messages.filter(internal=False)
    return list(messages.order_by("seq")[:limit])


def conversation_refresh(conversation: Conversation) -> Conversation:
    """Reload every column of a chat held in memory (status, operator, case… change), in
    one query without joins; related objects stay cached unless their key changed.

    For a socket that keeps its chat between frames instead of fetching it with its
    relations for every message.
    """
    fresh = Conversation.objects.get(pk=conversation.pk)
    for field in Conversation._meta.concrete_fields:
        value = getattr(fresh, field.attname)
        changed = getattr(conversation, field.attname) != value
        if changed and field.is_relation and field.is_cached(conversation):
            field.delete_cached_value(conversation)
        setattr(conversation, field.attname, value)
    return conversation


@dataclass
class ChatOpening:
    """What a socket needs after its hello: who it is, the backlog, the chat's state."""

    conversation: Conversation
    side: str  # "visitor" or "staff"
    backlog: list[ChatMessage]  # seq > after_seq, in order, internal notes included
    state: dict


def chat_opening(
    *, conversation_id: int, token: str = "", user: User | None = None, after_seq: int, limit: int
) -> ChatOpening | None:
    """Authorise a socket (visitor token, or a staff user who may see the chat) and read
    what it missed, in one trip to the database. None: no such chat for this caller.

    Internal notes are in the backlog for the cursor's sake; the socket drops them for
    visitors.
    """
    if token:
        conversation = conversation_for_visitor(conversation_id=conversation_id, token=token)
        side = "visitor"
    elif user is not None:
        try:
            conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
        except Http404:
            conversation = None
        side = "staff"
    else:
        conversation = None
    if conversation is None:
        return None
    backlog = messages_after(
        conversation_id=conversation.pk, after_seq=after_seq, staff=True, limit=limit
    )
    return ChatOpening(
        conversation=conversation,
        side=side,
        backlog=backlog,
        state=conversation_state(conversation),
    )


def conversation_state(conversation: Conversation) -> dict:
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "last_seq": conversation.last_seq,
        "operator": conversation.operator.display_name if conversation.operator_id else "",
        "visitor_read_seq": conversation.visitor_read_seq,
        "staff_read_seq": conversation.staff_read_seq,
        "rated": hasattr(conversation, "rating") and conversation.rating is not None,
    }


@dataclass
class ChatQueue:
    waiting: list[Conversation]
    mine: list[Conversation]
    invited: list[Conversation]
    load: int
    capacity: int
    accepting: bool


def chat_queue(*, user: User) -> ChatQueue:
    """What the chat queue page shows to `user`."""
    from otklik.chat.models import OperatorChatSettings

    visible = Conversation.objects.filter(conversations_visible_q(user)).distinct()
    waiting = list(
        visible.filter(status=ConversationStatus.QUEUED)
        .select_related("client", "chat_topic", "team")
        .order_by("queued_at", "pk")[:100]
    )
    previews = {}
    for message in ChatMessage.objects.filter(
        conversation__in=[c.pk for c in waiting], sender_kind="visitor"
    ).order_by("conversation_id", "seq"):
        previews.setdefault(message.conversation_id, []).append(message.body)
    for conversation in waiting:
        conversation.preview = previews.get(conversation.pk, [])[-3:]
    mine = list(
        Conversation.objects.filter(operator=user, status=ConversationStatus.ASSIGNED)
        .select_related("client")
        .order_by("assigned_at")
    )
    invited = []
    if user.role == Role.SPECIALIST:
        invited = list(
            visible.exclude(status=ConversationStatus.CLOSED).select_related("client", "operator")
        )
    own = OperatorChatSettings.objects.filter(user=user).first()
    return ChatQueue(
        waiting=waiting,
        mine=mine,
        invited=invited,
        load=len(mine),
        capacity=own.capacity if own else settings.OTKLIK_CHAT_DEFAULT_CAPACITY,
        accepting=bool(own and own.accepting),
    )


@dataclass
class ChatMetrics:
    chats: int
    answered: int
    answered_in_target: int
    service_level: float | None  # share answered within OTKLIK_CHAT_SL_SECONDS
    avg_first_answer_seconds: float | None
    aht_seconds: float | None  # average from an operator's take to the close
    csi: float | None


def chat_metrics(*, since: datetime | None = None, until: datetime | None = None) -> ChatMetrics:
    """SL (first operator answer within the target), time to answer, AHT and CSI."""
    until = until or timezone.now()
    since = since or until - timedelta(days=1)
    chats = list(
        Conversation.objects.filter(queued_at__gte=since, queued_at__lt=until).values_list(
            "queued_at", "assigned_at", "first_operator_reply_at", "closed_at"
        )
    )
    target = settings.OTKLIK_CHAT_SL_SECONDS
    waits = [(r - q).total_seconds() for q, _a, r, _c in chats if r]
    handled = [(c - a).total_seconds() for _q, a, _r, c in chats if a and c]
    scores = list(
        Conversation.objects.filter(
            queued_at__gte=since, queued_at__lt=until, rating__isnull=False
        ).values_list("rating__score", flat=True)
    )
    in_target = sum(1 for w in waits if w <= target)
    return ChatMetrics(
        chats=len(chats),
        answered=len(waits),
        answered_in_target=in_target,
        service_level=in_target / len(chats) if chats else None,
        avg_first_answer_seconds=sum(waits) / len(waits) if waits else None,
        aht_seconds=sum(handled) / len(handled) if handled else None,
        csi=sum(scores) / len(scores) if scores else None,
    )


def unanswered_queries(*, limit: int = 100) -> QuerySet:
    """What the bot could not answer, most frequent first: material for new articles."""
    return (
        BotDecision.objects.filter(
            Q(decision__in=[BotDecisionKind.HANDOFF_LOW_CONFIDENCE, BotDecisionKind.ALTERNATIVES])
            | Q(helpful=False)
        )
        .values("query")
        .annotate(times=Count("id"))
        .order_by("-times", "query")[:limit]
    )


def recent_decisions(*, limit: int = 50) -> list[BotDecision]:
    return list(BotDecision.objects.order_by("-created_at", "-pk")[:limit])


def is_handoff(decision: str) -> bool:
    return decision in HANDOFF_DECISIONS
