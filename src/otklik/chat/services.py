"""Writes on chats: messages (numbered, deduplicated), the bot, the queue, the close.

Every chat is mirrored to a case from the hand-off on: an Interaction on the chat channel
(ended when the chat closes) and a public Message per chat message, so the transcript stays
on the case. Live delivery happens only after commit (`_push`), to the conversation's
Channels group; a receiver that missed something asks for "after seq N".
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from otklik.accounts.models import Department, Role, Team, User
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    EventKind,
    Interaction,
    MessageVisibility,
)
from otklik.cases.services import case_open, message_add
from otklik.chat import bot
from otklik.chat.files import CheckedAttachment
from otklik.chat.models import (
    BotDecision,
    BotDecisionKind,
    ChatMessage,
    ChatRating,
    Conversation,
    ConversationStatus,
    OperatorChatSettings,
    SenderKind,
    new_token,
)
from otklik.chat.selectors import can_write, message_json
from otklik.clients.models import ChannelKind, Client
from otklik.common.errors import ConflictError, ServiceError

MAX_BODY = 4000
MAX_CLIENT_MSG_ID = 64
_CLIENT_MSG_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
STAFF_KINDS = (SenderKind.OPERATOR, SenderKind.SPECIALIST)
ACTIVE = (ConversationStatus.ASSIGNED,)


def group_name(conversation_id: int) -> str:
    """The Channels group every open socket of this conversation listens to."""
    return f"chat.{conversation_id}"


def _side(sender_kind: str) -> str:
    return "visitor" if sender_kind == SenderKind.VISITOR else "staff"


# --- delivery ---------------------------------------------------------------------------


_deferred: ContextVar[list[tuple[str, dict]] | None] = ContextVar("chat_deferred", default=None)


@contextmanager
def deferred_delivery() -> Iterator[list[tuple[str, dict]]]:
    """Collect the block's live sends as (group, event) instead of sending them.

    For callers that live on the event loop (the chat socket): they send the collected
    events with `await` afterwards, so the database thread never blocks on the loop.
    """
    pending: list[tuple[str, dict]] = []
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)


def _send(conversation_id: int, event: dict) -> None:
    pending = _deferred.get()
    if pending is not None:
        pending.append((group_name(conversation_id), event))
        return
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group_name(conversation_id), event)


def _push_message(message: ChatMessage) -> None:
    data = message_json(message)
    transaction.on_commit(
        lambda: _send(message.conversation_id, {"type": "chat.message", "message": data})
    )


def _push_status(conversation: Conversation) -> None:
    data = {
        "status": conversation.status,
        "operator": conversation.operator.display_name if conversation.operator else "",
    }
    transaction.on_commit(
        lambda: _send(conversation.pk, {"type": "chat.status", "conversation": data})
    )


def push_typing(*, conversation_id: int, side: str, name: str, channel_name: str = "") -> None:
    """Typing is not stored: it matters only to whoever is connected right now."""
    _send(
        conversation_id,
        {"type": "chat.typing", "side": side, "name": name, "sender_channel": channel_name},
    )


# --- start and identify -----------------------------------------------------------------


@transaction.atomic
def conversation_start(
    *, client: Client | None = None, origin: str = "", now: datetime | None = None
) -> tuple[Conversation, str]:
    """A new chat with the bot; returns it and the visitor's raw token (shown once)."""
    now = now or timezone.now()
    raw, hashed = new_token()
    conversation = Conversation.objects.create(
        visitor_token_hash=hashed, client=client, origin=origin[:200], created_at=now
    )
    greeting = _("Hello! I am the bank's bot. Ask your question, or write «operator».")
    if client is not None:
        greeting = _("Hello, %(name)s! I am the bank's bot. Ask your question.") % {
            "name": client.greeting_name
        }
    _append(conversation, sender_kind=SenderKind.BOT, body=greeting, now=now)
    return conversation, raw


@transaction.atomic
def conversation_identify(
    *, actor: User | None, conversation: Conversation, client: Client
) -> Conversation:
    """Link the chat to a known client (portal login or the operator found them).

    A case opened for the anonymous visitor moves to the real client with its
    interactions; the temporary guest record is removed if nothing else uses it.
    """
    if actor is not None and not can_write(user=actor, conversation=conversation):
        raise ServiceError({"client": _("You cannot change this chat.")})
    if conversation.client_id == client.pk:
        return conversation
    guest = conversation.client if conversation.client_is_guest else None
    if conversation.client_id and guest is None:
        raise ServiceError({"client": _("The chat is already linked to another client.")})
    Conversation.objects.filter(pk=conversation.pk).update(client=client, client_is_guest=False)
    conversation.client, conversation.client_is_guest = client, False
    if guest is not None:
        Case.objects.filter(client=guest).update(client=client)
        Interaction.objects.filter(client=guest).update(client=client)
        if not Conversation.objects.filter(client=guest).exists():
            guest.delete()
    _append(
        conversation,
        sender_kind=SenderKind.SYSTEM,
        body=_("Client identified: %(name)s.") % {"name": client.full_name},
        internal=True,
        author=actor,
    )
    return conversation


# --- messages ---------------------------------------------------------------------------


def _check_client_msg_id(value: str) -> str:
    value = (value or "").strip()
    if value and not _CLIENT_MSG_ID.match(value):
        raise ServiceError({"client_msg_id": _("Invalid message id.")})
    return value


def _next_seq(conversation: Conversation) -> int:
    """Claim the next number in one statement: an increment that returns the new value.

    Two writers cannot get the same number: the update locks the row until commit
    (PostgreSQL), or there is one writer at a time (SQLite), so seqs also commit in order.
    """
    table = connection.ops.quote_name(Conversation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq",  # noqa: S608 - table name from the model
            [conversation.pk],
        )
        (seq,) = cursor.fetchone()
    conversation.last_seq = seq
    return seq


def _append(
    conversation: Conversation,
    *,
    sender_kind: str,
    body: str = "",
    author: User | None = None,
    client_msg_id: str = "",
    internal: bool = False,
    payload: dict | None = None,
    attachment: CheckedAttachment | None = None,
    now: datetime | None = None,
) -> tuple[ChatMessage, bool]:
    """Store a message with the next seq, or return the one already stored for this
    client-side id (a resend). The second value says whether it is new.

    A resend is found by the unique constraint, not by a read first: new messages are
    the common case and pay one statement less (the savepoint also gives back the seq).
    Only a file is looked for first, so a resent file is not stored twice.
    """
    side = _side(sender_kind)
    if client_msg_id and attachment is not None:
        existing = ChatMessage.objects.filter(
            conversation=conversation, sender_side=side, client_msg_id=client_msg_id
        ).first()
        if existing is not None:
            return existing, False
    stored_path = ""
    try:
        with transaction.atomic():
            message = ChatMessage(
                conversation=conversation,
                seq=_next_seq(conversation),
                client_msg_id=client_msg_id,
                sender_kind=sender_kind,
                sender_side=side,
                author=author,
                body=body,
                internal=internal,
                payload=payload or {},
                created_at=now or timezone.now(),
            )
            if attachment is not None:
                message.attachment_name = attachment.name
                message.attachment_type = attachment.content_type
                message.attachment_size = attachment.size
                message.attachment.save(
                    attachment.name, ContentFile(attachment.content), save=False
                )
                stored_path = message.attachment.name
            message.save()
    except IntegrityError:
        # A resend (or the same resend racing us) hit the unique constraint: the savepoint
        # is rolled back, seq included; return the stored message.
        if stored_path:
            default_storage.delete(stored_path)
        existing = ChatMessage.objects.filter(
            conversation=conversation, sender_side=side, client_msg_id=client_msg_id
        ).first()
        if existing is None or not client_msg_id:
            raise
        return existing, False
    _mirror(conversation, message)
    _push_message(message)
    return message, True


def _mirror(conversation: Conversation, message: ChatMessage) -> None:
    """Copy a chat message to the case, once the chat has one."""
    if conversation.case_id is None or message.case_message_id:
        return
    case = conversation.case
    text = message.body
    if message.attachment_name:
        text = (text + "\n" if text else "") + _("[file: %(name)s]") % {
            "name": message.attachment_name
        }
    if not text.strip():
        return
    kind = message.sender_kind
    if kind == SenderKind.BOT:
        text = _("Bot: %(text)s") % {"text": text}
    interaction = conversation.interaction
    if kind == SenderKind.VISITOR:
        mirrored = message_add(
            actor=None,
            case=case,
            body=text,
            visibility=MessageVisibility.PUBLIC,
            interaction=interaction,
            author_kind=AuthorKind.CLIENT,
            now=message.created_at,
        )
    elif kind == SenderKind.OPERATOR and not message.internal:
        mirrored = message_add(
            actor=message.author,
            case=case,
            body=text,
            visibility=MessageVisibility.PUBLIC,
            interaction=interaction,
            now=message.created_at,
        )
    else:
        # Bot, system notes and specialists: written as the system (specialists answer
        # departments' questions through handoffs, not on the case), author kept.
        mirrored = message_add(
            actor=None,
            case=case,
            body=text,
            visibility=MessageVisibility.INTERNAL if message.internal else MessageVisibility.PUBLIC,
            interaction=interaction,
            author_kind=AuthorKind.SYSTEM if kind != SenderKind.SPECIALIST else AuthorKind.STAFF,
            now=message.created_at,
        )
        if message.author_id:
            type(mirrored).objects.filter(pk=mirrored.pk).update(author_id=message.author_id)
    ChatMessage.objects.filter(pk=message.pk).update(case_message=mirrored)
    message.case_message = mirrored


def _check_body(body: str, *, allow_empty: bool = False) -> str:
    body = (body or "").strip()
    if not body and not allow_empty:
        raise ServiceError({"body": _("The message is empty.")})
    if len(body) > MAX_BODY:
        raise ServiceError({"body": _("The message is longer than 4 000 characters.")})
    return body


@transaction.atomic
def visitor_post(
    *,
    conversation: Conversation,
    body: str = "",
    client_msg_id: str = "",
    attachment: CheckedAttachment | None = None,
    now: datetime | None = None,
) -> tuple[ChatMessage, bool]:
    """The visitor writes. While the bot has the chat it answers or hands off."""
    if conversation.status == ConversationStatus.CLOSED:
        raise ConflictError({"status": _("The chat is closed.")})
    body = _check_body(body, allow_empty=attachment is not None)
    message, created = _append(
        conversation,
        sender_kind=SenderKind.VISITOR,
        body=body,
        client_msg_id=_check_client_msg_id(client_msg_id),
        attachment=attachment,
        now=now,
    )
    if created and body and conversation.status == ConversationStatus.BOT:
        bot_respond(conversation=conversation, message=message)
    return message, created


@transaction.atomic
def staff_post(
    *,
    actor: User,
    conversation: Conversation,
    body: str = "",
    client_msg_id: str = "",
    internal: bool = False,
    attachment: CheckedAttachment | None = None,
    now: datetime | None = None,
) -> tuple[ChatMessage, bool]:
    """An operator or an invited specialist writes to the client (or a note for staff)."""
    if not can_write(user=actor, conversation=conversation):
        raise ServiceError({"body": _("Take the chat before answering.")})
    body = _check_body(body, allow_empty=attachment is not None)
    now = now or timezone.now()
    kind = SenderKind.SPECIALIST if actor.role == Role.SPECIALIST else SenderKind.OPERATOR
    message, created = _append(
        conversation,
        sender_kind=kind,
        body=body,
        author=actor,
        client_msg_id=_check_client_msg_id(client_msg_id),
        internal=internal,
        attachment=attachment,
        now=now,
    )
    if created and not internal:
        Conversation.objects.filter(pk=conversation.pk, first_operator_reply_at=None).update(
            first_operator_reply_at=now
        )
    return message, created


# --- the bot ----------------------------------------------------------------------------


def _article_url(slug: str) -> str:
    try:
        return reverse("faq:article", kwargs={"slug": slug})
    except NoReverseMatch:
        return f"/faq/{slug}/"


def _answer_text(hit) -> str:
    from otklik.knowledge.models import Article

    article = Article.objects.select_related("published_version").filter(pk=hit.article_id).first()
    version = article.published_version if article else None
    if version is not None and version.steps:
        steps = "\n".join(f"{i}. {s}" for i, s in enumerate(version.steps[:6], 1))
        return f"{hit.title}\n{steps}"
    return f"{hit.title}\n{strip_tags(str(hit.snippet_html)).strip()}"


def bot_respond(*, conversation: Conversation, message: ChatMessage) -> BotDecision:
    """Decide, log the decision, and answer or hand off."""
    decision = bot.decide(conversation, message.body)
    now = timezone.now()
    if decision.chat_topic is not None and conversation.chat_topic_id is None:
        conversation.chat_topic = decision.chat_topic
        Conversation.objects.filter(pk=conversation.pk).update(chat_topic=decision.chat_topic)
    top = decision.hits[0] if decision.hits else None
    logged = BotDecision.objects.create(
        conversation=conversation,
        message=message,
        query=message.body,
        candidates=decision.candidates,
        top_score=decision.top_score,
        decision=decision.kind,
        reason=decision.reason,
        article_slug=top.slug if top and not decision.hands_off else "",
        created_at=now,
    )
    if decision.hands_off:
        handoff(conversation=conversation, reason=decision.kind, now=now)
        return logged
    payload = {
        "kind": decision.kind,
        "decision": logged.pk,
        "article": {"slug": top.slug, "title": top.title, "url": _article_url(top.slug)},
        "buttons": ["helpful", "unhelpful", "operator"],
    }
    body = _answer_text(top)
    if decision.kind == BotDecisionKind.ALTERNATIVES:
        payload["alternatives"] = [
            {"slug": h.slug, "title": h.title, "url": _article_url(h.slug)}
            for h in decision.hits[1 : 1 + bot.MAX_ALTERNATIVES]
        ]
        body = _("Perhaps this is it:") + "\n" + body
    _append(conversation, sender_kind=SenderKind.BOT, body=body, payload=payload, now=now)
    return logged


@transaction.atomic
def bot_feedback(*, conversation: Conversation, decision_id: int, helpful: bool) -> BotDecision:
    """«Помогло?» — the second "no" in a chat hands it to a person."""
    decision = BotDecision.objects.filter(pk=decision_id, conversation=conversation).first()
    if decision is None:
        raise ServiceError({"decision": _("Unknown answer.")})
    if decision.helpful is not None:
        return decision
    BotDecision.objects.filter(pk=decision.pk).update(helpful=helpful)
    decision.helpful = helpful
    if conversation.status != ConversationStatus.BOT:
        return decision
    if helpful:
        _append(conversation, sender_kind=SenderKind.BOT, body=_("Glad it helped!"))
        return decision
    Conversation.objects.filter(pk=conversation.pk).update(unhelpful_count=F("unhelpful_count") + 1)
    conversation.refresh_from_db(fields=["unhelpful_count"])
    if conversation.unhelpful_count >= bot.UNHELPFUL_LIMIT:
        BotDecision.objects.create(
            conversation=conversation,
            query=decision.query,
            candidates=decision.candidates,
            top_score=decision.top_score,
            decision=BotDecisionKind.HANDOFF_UNHELPFUL,
            reason=f"{conversation.unhelpful_count} unhelpful answers",
            created_at=timezone.now(),
        )
        handoff(conversation=conversation, reason=BotDecisionKind.HANDOFF_UNHELPFUL)
    else:
        _append(
            conversation,
            sender_kind=SenderKind.BOT,
            body=_("Sorry. Try to put it differently, or write «operator»."),
        )
    return decision


# --- hand-off, case and routing ---------------------------------------------------------


def _ensure_case(conversation: Conversation, now: datetime) -> None:
    """Open or continue the case for the chat and mirror the transcript so far."""
    if conversation.case_id is not None:
        return
    if conversation.client_id is None:
        from otklik.clients.services import client_create

        guest = client_create(last_name=_("Chat visitor"), first_name=f"№{conversation.pk}")
        conversation.client, conversation.client_is_guest = guest, True
    topic = conversation.chat_topic.topic if conversation.chat_topic else None
    case = None
    if not conversation.client_is_guest and topic is not None:
        case = (
            Case.objects.filter(client=conversation.client, is_open=True, topic=topic)
            .order_by("-created_at")
            .first()
        )
    first = (
        conversation.messages.filter(sender_kind=SenderKind.VISITOR)
        .exclude(body="")
        .order_by("seq")
        .first()
    )
    if case is None:
        subject = (first.body if first else "") or _("Chat with a client")
        case = case_open(
            actor=None,
            client=conversation.client,
            subject=subject[:120],
            channel=ChannelKind.CHAT,
            topic=topic,
            team=conversation.team,
            now=now,
        )
    interaction = Interaction.objects.create(
        client=conversation.client,
        case=case,
        channel=ChannelKind.CHAT,
        external_ref=f"chat:{conversation.pk}",
        started_at=conversation.created_at,
    )
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.INTERACTION_LINKED,
        field="channel",
        new_value=ChannelKind.CHAT,
        created_at=now,
    )
    conversation.case, conversation.interaction = case, interaction
    Conversation.objects.filter(pk=conversation.pk).update(
        case=case,
        interaction=interaction,
        client=conversation.client,
        client_is_guest=conversation.client_is_guest,
    )
    for message in conversation.messages.filter(case_message=None).order_by("seq"):
        _mirror(conversation, message)


@transaction.atomic
def handoff(*, conversation: Conversation, reason: str, now: datetime | None = None) -> None:
    """Put the chat in the operators' queue with a case and its transcript; route it."""
    now = now or timezone.now()
    changed = Conversation.objects.filter(pk=conversation.pk, status=ConversationStatus.BOT).update(
        status=ConversationStatus.QUEUED, queued_at=now, handoff_reason=reason
    )
    if not changed:
        return
    conversation.status, conversation.queued_at = ConversationStatus.QUEUED, now
    conversation.handoff_reason = reason
    topic = conversation.chat_topic
    if topic is not None and topic.team_id and conversation.team_id is None:
        conversation.team = topic.team
        Conversation.objects.filter(pk=conversation.pk).update(team=topic.team)
    _ensure_case(conversation, now)
    _append(
        conversation,
        sender_kind=SenderKind.SYSTEM,
        body=_("Connecting you with an operator. Please stay in the chat."),
        now=now,
    )
    _push_status(conversation)
    route(conversation=conversation, now=now)


def settings_for(user: User) -> OperatorChatSettings:
    found, _created = OperatorChatSettings.objects.get_or_create(
        user=user, defaults={"capacity": settings.OTKLIK_CHAT_DEFAULT_CAPACITY}
    )
    return found


def active_load(user_id: int) -> int:
    return Conversation.objects.filter(operator_id=user_id, status__in=ACTIVE).count()


def _eligible_operators(conversation: Conversation) -> list[OperatorChatSettings]:
    """Accepting operators with spare capacity, skilled ones first, least loaded first."""
    candidates = (
        OperatorChatSettings.objects.filter(
            accepting=True,
            user__is_active=True,
            user__role__in=[Role.OPERATOR, Role.SENIOR_OPERATOR, Role.PERSONAL_MANAGER],
        )
        .select_related("user")
        .annotate(
            load=Count("user__chats", filter=Q(user__chats__status__in=ACTIVE), distinct=True),
            skills=Count("topics", distinct=True),
        )
    )
    if conversation.team_id:
        candidates = candidates.filter(user__team_id=conversation.team_id)
    rows = [c for c in candidates if c.load < c.capacity]
    topic_id = conversation.chat_topic_id
    if topic_id is not None:
        skilled_ids = set(
            OperatorChatSettings.topics.through.objects.filter(chattopic_id=topic_id).values_list(
                "operatorchatsettings_id", flat=True
            )
        )
        skilled = [c for c in rows if c.pk in skilled_ids]
        rows = skilled or [c for c in rows if c.skills == 0]
    else:
        rows = [c for c in rows if c.skills == 0] or rows
    epoch = timezone.make_aware(datetime(2000, 1, 1))
    rows.sort(key=lambda c: (c.load / c.capacity, c.last_assigned_at or epoch, c.pk))
    return rows


def _assign(
    conversation: Conversation, operator: User, now: datetime, previous: User | None = None
) -> bool:
    """Give the queued chat to `operator` if it is still queued and they have room.

    The operator's settings row is locked so two assignments cannot both pass the
    capacity check; the conditional update on status stops a double take of one chat.
    """
    own = OperatorChatSettings.objects.select_for_update().filter(user=operator).first()
    capacity = own.capacity if own else settings.OTKLIK_CHAT_DEFAULT_CAPACITY
    if active_load(operator.pk) >= capacity:
        return False
    changed = Conversation.objects.filter(
        pk=conversation.pk, status=ConversationStatus.QUEUED
    ).update(status=ConversationStatus.ASSIGNED, operator=operator, assigned_at=now)
    if not changed:
        return False
    OperatorChatSettings.objects.filter(user=operator).update(last_assigned_at=now)
    conversation.status, conversation.operator, conversation.assigned_at = (
        ConversationStatus.ASSIGNED,
        operator,
        now,
    )
    if conversation.interaction_id:
        Interaction.objects.filter(pk=conversation.interaction_id, operator=None).update(
            operator=operator
        )
    if conversation.case_id:
        # The chat's operator owns its case (unless someone else already does).
        Case.objects.filter(Q(owner=None) | Q(owner=previous), pk=conversation.case_id).update(
            owner=operator
        )
    _append(
        conversation,
        sender_kind=SenderKind.SYSTEM,
        body=_("%(name)s joined the chat.") % {"name": operator.display_name},
        now=now,
    )
    _push_status(conversation)
    from otklik.live.services import publish

    publish(
        user_ids=[operator.pk],
        kind="chat_assigned",
        text=_("A chat is yours: %(chat)s") % {"chat": conversation},
        case=conversation.case,
        payload={"conversation": conversation.pk},
    )
    return True


@transaction.atomic
def route(*, conversation: Conversation, now: datetime | None = None) -> User | None:
    """Assign a queued chat to the best eligible operator, if any has room."""
    now = now or timezone.now()
    if conversation.status != ConversationStatus.QUEUED:
        return None
    for candidate in _eligible_operators(conversation):
        if _assign(conversation, candidate.user, now):
            return candidate.user
    return None


def route_waiting(*, now: datetime | None = None) -> int:
    """Offer every waiting chat (oldest first) to operators with room; returns how many."""
    assigned = 0
    for conversation in Conversation.objects.filter(status=ConversationStatus.QUEUED).order_by(
        "queued_at", "pk"
    )[:200]:
        if route(conversation=conversation, now=now):
            assigned += 1
    return assigned


@transaction.atomic
def operator_set_accepting(*, user: User, accepting: bool) -> OperatorChatSettings:
    own = settings_for(user)
    OperatorChatSettings.objects.filter(pk=own.pk).update(accepting=accepting)
    own.accepting = accepting
    if accepting:
        transaction.on_commit(route_waiting)
    return own


@transaction.atomic
def chat_take(*, actor: User, conversation: Conversation, now: datetime | None = None) -> None:
    """An operator takes a waiting chat from the queue, within their capacity."""
    if actor.role == Role.SPECIALIST:
        raise ServiceError({"chat": _("Specialists join chats by invitation.")})
    if conversation.status != ConversationStatus.QUEUED:
        raise ConflictError({"chat": _("The chat is no longer waiting; reload the queue.")})
    if not _assign(conversation, actor, now or timezone.now()):
        conversation.refresh_from_db(fields=["status"])
        if conversation.status != ConversationStatus.QUEUED:
            raise ConflictError({"chat": _("Another operator took the chat first.")})
        raise ServiceError({"chat": _("You already have as many chats as you can take.")})


@transaction.atomic
def chat_transfer(
    *,
    actor: User,
    conversation: Conversation,
    note: str,
    to_user: User | None = None,
    to_team: Team | None = None,
    now: datetime | None = None,
) -> None:
    """Hand the chat to another operator, or back to a team's queue, with a note for them."""
    now = now or timezone.now()
    if not can_write(user=actor, conversation=conversation) or actor.role == Role.SPECIALIST:
        raise ServiceError({"chat": _("Only the chat's operator or a supervisor can transfer it.")})
    if conversation.status != ConversationStatus.ASSIGNED:
        raise ConflictError({"chat": _("Only a chat with an operator can be transferred.")})
    if (to_user is None) == (to_team is None):
        raise ServiceError({"to": _("Choose an operator or a team.")})
    note = _check_body(note)
    if to_user is not None and to_user.pk == conversation.operator_id:
        raise ServiceError({"to": _("The chat is already with this operator.")})
    if to_user is not None and (to_user.role == Role.SPECIALIST or not to_user.is_active):
        raise ServiceError({"to": _("Transfer to an operator.")})
    changed = Conversation.objects.filter(
        pk=conversation.pk, status=ConversationStatus.ASSIGNED, operator=conversation.operator
    ).update(status=ConversationStatus.QUEUED, operator=None, queued_at=now)
    if not changed:
        raise ConflictError({"chat": _("The chat changed meanwhile; reload it.")})
    conversation.status, conversation.operator = ConversationStatus.QUEUED, None
    if to_team is not None:
        conversation.team = to_team
        Conversation.objects.filter(pk=conversation.pk).update(team=to_team)
    target = to_user.display_name if to_user else to_team.name
    _append(
        conversation,
        sender_kind=SenderKind.SYSTEM,
        author=actor,
        internal=True,
        body=_("Transferred by %(who)s to %(target)s: %(note)s")
        % {"who": actor.display_name, "target": target, "note": note},
        now=now,
    )
    if to_user is not None:
        if not _assign(conversation, to_user, now, previous=actor):
            raise ServiceError({"to": _("This operator has no room for another chat.")})
    else:
        _push_status(conversation)
        route(conversation=conversation, now=now)


@transaction.atomic
def chat_invite(
    *, actor: User, conversation: Conversation, department: Department, note: str
) -> None:
    """Invite a department (story 002: security) to speak with the client in this chat.

    Its specialists see the chat and the case (a handoff carries the note as its question).
    """
    from otklik.handoffs.services import handoff_send

    if not can_write(user=actor, conversation=conversation) or actor.role == Role.SPECIALIST:
        raise ServiceError({"chat": _("Only the chat's operator can invite a department.")})
    if conversation.status == ConversationStatus.CLOSED:
        raise ConflictError({"chat": _("The chat is closed.")})
    note = _check_body(note)
    conversation.departments.add(department)
    if conversation.case_id and conversation.case.is_open:
        handoff_send(
            actor=actor,
            case=conversation.case,
            department=department,
            question=_("Chat %(chat)s: %(note)s") % {"chat": conversation, "note": note},
        )
    _append(
        conversation,
        sender_kind=SenderKind.SYSTEM,
        author=actor,
        internal=True,
        body=_("%(who)s invited %(department)s: %(note)s")
        % {"who": actor.display_name, "department": department.name, "note": note},
    )
    specialists = User.objects.filter(
        department=department, role=Role.SPECIALIST, is_active=True
    ).values_list("pk", flat=True)
    from otklik.live.services import publish

    publish(
        user_ids=list(specialists),
        kind="chat_invited",
        text=_("You are invited into %(chat)s") % {"chat": conversation},
        case=conversation.case,
        payload={"conversation": conversation.pk},
    )


@transaction.atomic
def specialist_join(*, actor: User, conversation: Conversation) -> None:
    """An invited department's specialist enters the chat; the client sees who joined."""
    if actor.role != Role.SPECIALIST or actor.department_id is None:
        raise ServiceError({"chat": _("Only an invited department's specialist can join.")})
    if not conversation.departments.filter(pk=actor.department_id).exists():
        raise ServiceError({"chat": _("Your department is not invited into this chat.")})
    if conversation.participants.filter(pk=actor.pk).exists():
        return
    conversation.participants.add(actor)
    _append(
        conversation,
        sender_kind=SenderKind.SYSTEM,
        body=_("%(name)s (%(department)s) joined the chat.")
        % {"name": actor.display_name, "department": actor.department.name},
    )


@transaction.atomic
def chat_close(
    *, conversation: Conversation, actor: User | None = None, now: datetime | None = None
) -> None:
    """Close the chat (the visitor, or staff who may write); the client is asked for CSI."""
    now = now or timezone.now()
    if actor is not None and not can_write(user=actor, conversation=conversation):
        raise ServiceError({"chat": _("You cannot close this chat.")})
    previous_operator = conversation.operator_id
    changed = (
        Conversation.objects.filter(pk=conversation.pk)
        .exclude(status=ConversationStatus.CLOSED)
        .update(status=ConversationStatus.CLOSED, closed_at=now)
    )
    if not changed:
        return
    conversation.status, conversation.closed_at = ConversationStatus.CLOSED, now
    if conversation.interaction_id:
        Interaction.objects.filter(pk=conversation.interaction_id).update(ended_at=now)
    who = actor.display_name if actor else _("the client")
    _append(
        conversation,
        sender_kind=SenderKind.SYSTEM,
        author=actor,
        body=_("The chat was closed by %(who)s.") % {"who": who},
        now=now,
    )
    _push_status(conversation)
    if previous_operator:
        transaction.on_commit(route_waiting)


@transaction.atomic
def chat_rate(*, conversation: Conversation, score: int, comment: str = "") -> ChatRating:
    """The client's CSI after the chat, once; it also goes on the case as a note."""
    if conversation.status != ConversationStatus.CLOSED:
        raise ServiceError({"score": _("Rate the chat after it is closed.")})
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ServiceError({"score": _("The score is from 1 to 5.")})
    comment = (comment or "").strip()[:2000]
    rating, created = ChatRating.objects.get_or_create(
        conversation=conversation,
        defaults={"score": score, "comment": comment, "created_at": timezone.now()},
    )
    if not created:
        raise ConflictError({"score": _("The chat is already rated.")})
    if conversation.case_id:
        text = _("Chat rating (CSI): %(score)s of 5.") % {"score": score}
        if comment:
            text += " " + comment
        message_add(
            actor=None,
            case=conversation.case,
            body=text,
            visibility=MessageVisibility.INTERNAL,
            author_kind=AuthorKind.SYSTEM,
        )
    return rating


def mark_read(*, conversation: Conversation, side: str, seq: int) -> bool:
    """Move the side's read marker forward (never back); tell the other side."""
    field = "visitor_read_seq" if side == "visitor" else "staff_read_seq"
    seq = max(int(seq), 0)
    changed = Conversation.objects.filter(
        pk=conversation.pk, last_seq__gte=seq, **{f"{field}__lt": seq}
    ).update(**{field: seq})
    if changed:
        _send(conversation.pk, {"type": "chat.read", "side": side, "seq": seq})
    return bool(changed)
