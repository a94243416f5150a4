"""Starting and identifying a chat, and its messages (numbered, deduplicated, mirrored)."""

from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, User
from otklik.cases.models import (
    AuthorKind,
    Case,
    Interaction,
    MessageVisibility,
)
from otklik.cases.services import message_add
from otklik.chat.files import CheckedAttachment
from otklik.chat.limits import chat_start_allow, visitor_message_allow
from otklik.chat.models import (
    ChatMessage,
    Conversation,
    ConversationStatus,
    SenderKind,
    VisitorDevice,
    new_token,
)
from otklik.chat.selectors import can_write, open_conversation_for_client
from otklik.chat.services.delivery import (
    _CLIENT_MSG_ID,
    MAX_BODY,
    _push_message,
    _side,
)
from otklik.clients.models import Client
from otklik.common.errors import ConflictError, ServiceError
from otklik.common.redaction import redact

# --- start and identify -----------------------------------------------------------------


@transaction.atomic
def conversation_start(
    *,
    client: Client | None = None,
    origin: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> tuple[Conversation, str]:
    """A new chat with the bot; returns it and the visitor's raw token (shown once).

    `ip`: the widget's address, whose new chats are limited (chat.limits); None for chats
    started by the server itself (the demo).
    """
    now = now or timezone.now()
    if ip is not None:
        chat_start_allow(ip=ip, now=now)
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
def conversation_start_or_resume(
    *, client: Client | None, origin: str = "", ip: str | None = None
) -> tuple[Conversation, str, bool]:
    """The portal's chat: the client's open conversation on this device too, else a new one.

    Returns the chat, a raw token for this device, and whether it was resumed. A resumed
    chat keeps its history (the widget asks for "after seq 0") and its operator; the
    device gets its own token, so the other devices keep theirs.
    """
    if client is not None:
        conversation = open_conversation_for_client(client_id=client.pk)
        if conversation is not None:
            raw, hashed = new_token()
            VisitorDevice.objects.create(conversation=conversation, token_hash=hashed)
            return conversation, raw, True
    conversation, raw = conversation_start(client=client, origin=origin, ip=ip)
    return conversation, raw, False


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
    """The text as it may be stored (either side of the chat): identifiers redacted."""
    body = (body or "").strip()
    if not body and not allow_empty:
        raise ServiceError({"body": _("The message is empty.")})
    if len(body) > MAX_BODY:
        raise ServiceError({"body": _("The message is longer than 4 000 characters.")})
    return redact(body)


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
    if created:
        # Only new messages count (the widget resends unacknowledged ones). Over the limit
        # this raises and the transaction rolls back: nothing stored, answered or pushed.
        visitor_message_allow(conversation_id=conversation.pk, now=now)
    if created and body and conversation.status == ConversationStatus.BOT:
        # The bot posts through this module, so it is imported here, not at the top.
        from otklik.chat.services.bot_turns import bot_respond

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
