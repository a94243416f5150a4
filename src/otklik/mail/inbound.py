"""A received e-mail becomes a client's message on a case, or is set aside as noise.

The order of the checks is the loop protection: a duplicate (same Message-ID in this box)
is dropped first; delivery reports go back onto the outgoing mail they are about;
auto-replies, our own boxes' mail and senders over the hourly limit are stored as
ignored, so they never open a case and are never answered. Everything else is threaded:
by the ids it answers (In-Reply-To, References), then by a case reference in the
subject (only for the case's own client), else it opens a new case.
"""

import hashlib
import io
import re
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    EventKind,
    Interaction,
    MessageVisibility,
)
from otklik.cases.services import MAX_BODY, case_open, message_add
from otklik.clients.models import ChannelKind, Client, ContactPoint
from otklik.common.errors import ServiceError
from otklik.common.throttle import AttemptCounter
from otklik.common.uploads import check_upload, content_types
from otklik.mail.models import (
    IgnoreReason,
    MailAttachment,
    Mailbox,
    MailDirection,
    MailMessage,
    MailStatus,
)
from otklik.mail.parsing import ParsedMail, parse

ATTACHMENT_TYPES = content_types("pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "docx")
_SUBJECT_REF = re.compile(r"\[№\s?(\d{1,10})\]|№\s?(\d{1,10})\b")

_senders = AttemptCounter(prefix="mail-sender", namespace="mail.sender", window_seconds=3600)


class _Upload(io.BytesIO):
    """An attachment's bytes shaped like an uploaded file for `check_upload`."""

    def __init__(self, name: str, content: bytes):
        super().__init__(content)
        self.name, self.size = name, len(content)


def client_by_address(address: str) -> Client | None:
    """The client whose e-mail contact is this address (the oldest, if several share it)."""
    contact = (
        ContactPoint.objects.filter(kind=ChannelKind.EMAIL, value__iexact=address)
        .select_related("client")
        .order_by("client_id")
        .first()
    )
    return contact.client if contact else None


def _thread_case(parsed: ParsedMail) -> Case | None:
    ids = parsed.thread_ids
    if ids:
        known = (
            MailMessage.objects.filter(message_id__in=ids, case__isnull=False)
            .select_related("case")
            .order_by("-created_at", "-pk")
            .first()
        )
        if known is not None:
            return known.case
    match = _SUBJECT_REF.search(parsed.subject)
    if match:
        case = Case.objects.filter(pk=int(match.group(1) or match.group(2))).first()
        # A reference in a subject is easy to type: it counts only for the case's client.
        if (
            case is not None
            and parsed.from_address
            and ContactPoint.objects.filter(
                client_id=case.client_id, kind=ChannelKind.EMAIL, value__iexact=parsed.from_address
            ).exists()
        ):
            return case
    return None


def _ignore(
    mailbox: Mailbox, parsed: ParsedMail, reason: str, now: datetime, case: Case | None = None
) -> MailMessage:
    return MailMessage.objects.create(
        mailbox=mailbox,
        case=case,
        direction=MailDirection.INBOUND,
        status=MailStatus.IGNORED,
        ignore_reason=reason,
        **_fields(parsed),
        created_at=now,
    )


def _fields(parsed: ParsedMail) -> dict:
    return {
        "message_id": parsed.message_id,
        "in_reply_to": " ".join(parsed.in_reply_to)[:250],
        "references": " ".join(parsed.references),
        "from_address": parsed.from_address[:250],
        "from_name": parsed.from_name,
        "to_addresses": ", ".join(parsed.to_addresses),
        "subject": parsed.subject,
        "body_text": parsed.text,
        "quoted_text": parsed.quoted,
        "body_html": parsed.html,
    }


def _bounce(mailbox: Mailbox, parsed: ParsedMail, now: datetime) -> MailMessage:
    """A delivery report: the outgoing mail it names failed; say so on its case."""
    from otklik.mail.outbound import mark_failed

    wanted = [parsed.bounced_message_id, *parsed.thread_ids]
    failed = (
        MailMessage.objects.filter(direction=MailDirection.OUTBOUND, message_id__in=wanted)
        .order_by("-created_at")
        .first()
    )
    if failed is not None:
        reason = parsed.bounce_diagnostic or parsed.subject or _("returned by the mail server")
        mark_failed(mail=failed, error=reason, now=now)
    return _ignore(mailbox, parsed, IgnoreReason.BOUNCE, now, case=failed.case if failed else None)


def _store_attachments(mail: MailMessage, parsed: ParsedMail) -> list[str]:
    """Keep the files that pass the checks; the refusals, as lines for a note."""
    refused = []
    limit = settings.OTKLIK_MAIL_MAX_ATTACHMENT_BYTES
    for item in parsed.attachments:
        try:
            checked = check_upload(
                _Upload(item.name, item.content),
                field="attachment",
                allowed=ATTACHMENT_TYPES,
                max_bytes=limit,
                too_big=_("The file «%(name)s» is larger than %(mb)s MB."),
                not_accepted=_("The file «%(name)s» is not accepted (type not allowed)."),
            )
        except ServiceError as exc:
            refused.extend(str(m) for m in exc.messages)
            continue
        attachment = MailAttachment(
            message=mail,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            content_id=item.content_id,
            inline=item.inline,
        )
        attachment.file.save(checked.name, ContentFile(checked.content), save=False)
        attachment.save()
    return refused


def _client_for(parsed: ParsedMail) -> tuple[Client, bool]:
    """The sender's client, or a new record for an unknown sender (to identify later)."""
    known = client_by_address(parsed.from_address)
    if known is not None:
        return known, True
    from otklik.clients.services import client_create

    name = parsed.from_name or parsed.from_address.partition("@")[0] or "?"
    guest = client_create(
        last_name=_("E-mail sender"), first_name=name[:100], emails=[parsed.from_address]
    )
    return guest, False


@transaction.atomic
def _accept(mailbox: Mailbox, parsed: ParsedMail, now: datetime) -> MailMessage:
    case = _thread_case(parsed)
    sender_known = True
    if case is not None:
        client = case.client
    else:
        client, sender_known = _client_for(parsed)
        case = case_open(
            actor=None,
            client=client,
            subject=parsed.subject or _("E-mail without a subject"),
            channel=ChannelKind.EMAIL,
            team=mailbox.team,
            now=now,
        )
    interaction = Interaction.objects.create(
        client=client,
        case=case,
        channel=ChannelKind.EMAIL,
        external_ref=parsed.message_id[:100],
        started_at=now,
        ended_at=now,
    )
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.INTERACTION_LINKED,
        field="channel",
        new_value=ChannelKind.EMAIL,
        created_at=now,
    )
    mail = MailMessage.objects.create(
        mailbox=mailbox,
        direction=MailDirection.INBOUND,
        status=MailStatus.RECEIVED,
        case=case,
        interaction=interaction,
        sender_known=sender_known,
        created_at=now,
        **_fields(parsed),
    )
    refused = _store_attachments(mail, parsed)
    names = [a.name for a in mail.attachments.filter(inline=False)]
    body = parsed.text or _("(The e-mail has no text.)")
    if names:
        body += "\n\n" + _("Attached: %(names)s") % {"names": ", ".join(names)}
    message = message_add(
        actor=None,
        case=case,
        body=body[:MAX_BODY],
        visibility=MessageVisibility.PUBLIC,
        interaction=interaction,
        author_kind=AuthorKind.CLIENT,
        now=now,
    )
    MailMessage.objects.filter(pk=mail.pk).update(case_message=message)
    mail.case_message = message
    notes = []
    if not sender_known:
        notes.append(
            _("The sender %(address)s is not among the clients: find the client and link them.")
            % {"address": parsed.from_address}
        )
    if refused:
        notes.append(_("Files not accepted:") + "\n" + "\n".join(refused))
    for note in notes:
        message_add(
            actor=None,
            case=case,
            body=note,
            visibility=MessageVisibility.INTERNAL,
            author_kind=AuthorKind.SYSTEM,
            now=now,
        )
    return mail


def mail_receive(
    *, mailbox: Mailbox, raw: bytes, now: datetime | None = None
) -> tuple[MailMessage, bool]:
    """Take one raw message delivered to `mailbox`; (its row, whether it was new).

    Safe to call twice with the same message (IMAP re-poll, gateway and IMAP both): the
    second call returns the first row.
    """
    now = now or timezone.now()
    parsed = parse(raw)
    if not parsed.message_id:
        digest = hashlib.sha256(raw).hexdigest()[:40]
        parsed.message_id = f"no-id-{digest}@{mailbox.domain}"
    existing = MailMessage.objects.filter(
        mailbox=mailbox, direction=MailDirection.INBOUND, message_id=parsed.message_id
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return _route(mailbox, parsed, now), True
    except IntegrityError:
        # Another process stored the same message a moment ago.
        existing = MailMessage.objects.get(
            mailbox=mailbox, direction=MailDirection.INBOUND, message_id=parsed.message_id
        )
        return existing, False


def _route(mailbox: Mailbox, parsed: ParsedMail, now: datetime) -> MailMessage:
    if parsed.noise == "bounce":
        return _bounce(mailbox, parsed, now)
    if parsed.noise == "auto_reply":
        return _ignore(mailbox, parsed, IgnoreReason.AUTO_REPLY, now)
    if not parsed.from_address or "@" not in parsed.from_address:
        return _ignore(mailbox, parsed, IgnoreReason.NO_SENDER, now)
    if Mailbox.objects.filter(address__iexact=parsed.from_address).exists():
        return _ignore(mailbox, parsed, IgnoreReason.LOOP, now)
    verdict = _senders.check(
        "inbound", parsed.from_address, settings.OTKLIK_MAIL_SENDER_PER_HOUR, now=now
    )
    if verdict.retry_at is not None:
        return _ignore(mailbox, parsed, IgnoreReason.RATE_LIMITED, now)
    return _accept(mailbox, parsed, now)
