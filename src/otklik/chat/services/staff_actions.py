"""What staff and the client do with a running chat: take, transfer, invite, close, rate, read."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Department, Role, Team, User
from otklik.cases.models import (
    AuthorKind,
    Interaction,
    MessageVisibility,
)
from otklik.cases.services import message_add
from otklik.chat.models import (
    ChatRating,
    Conversation,
    ConversationStatus,
    OperatorChatSettings,
    SenderKind,
)
from otklik.chat.selectors import can_write
from otklik.chat.services.delivery import (
    _push_status,
    _send,
)
from otklik.chat.services.messages import (
    _append,
    _check_body,
)
from otklik.chat.services.routing import (
    _assign,
    route,
    route_waiting,
    settings_for,
)
from otklik.common.errors import ConflictError, ServiceError
from otklik.common.redaction import redact


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
    comment = redact((comment or "").strip()[:2000])
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
