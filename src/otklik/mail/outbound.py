"""Operators' replies by e-mail: recorded on the case, sent through the mailbox's SMTP with
threading headers and the team's signature; failures come back onto the case.

A reply is stored first (the case message, an outbound interaction and the mail row
"queued") and sent after the commit; the periodic scan sends whatever a lost job left.
A refusal by the server (5xx, recipients refused) or a later delivery report marks the
mail failed and leaves an internal note on the case; a temporary failure is retried.
"""

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import User
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    Direction,
    EventKind,
    Interaction,
    MessageVisibility,
)
from otklik.cases.selectors import can_edit_case
from otklik.cases.services import message_add
from otklik.clients.models import ChannelKind, ContactPoint
from otklik.common.errors import NotAllowed, ServiceError
from otklik.mail.crypto import open_password
from otklik.mail.models import Mailbox, MailDirection, MailMessage, MailStatus, Security

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SMTP_TIMEOUT = 20
STUCK_AFTER = timedelta(minutes=10)


def _last_thread_mail(case: Case) -> MailMessage | None:
    return (
        MailMessage.objects.filter(case=case)
        .exclude(status=MailStatus.IGNORED)
        .select_related("mailbox")
        .order_by("-created_at", "-pk")
        .first()
    )


def _recipient(case: Case, last: MailMessage | None) -> str:
    if last is not None and last.direction == MailDirection.INBOUND:
        return last.from_address
    inbound = (
        MailMessage.objects.filter(case=case, direction=MailDirection.INBOUND)
        .exclude(status=MailStatus.IGNORED)
        .order_by("-created_at")
        .first()
    )
    if inbound is not None:
        return inbound.from_address
    contact = (
        ContactPoint.objects.filter(client_id=case.client_id, kind=ChannelKind.EMAIL)
        .order_by("-is_primary", "id")
        .first()
    )
    return contact.value if contact else ""


def _mailbox_for(case: Case, last: MailMessage | None) -> Mailbox | None:
    if last is not None and last.mailbox.is_active:
        return last.mailbox
    boxes = Mailbox.objects.filter(is_active=True).order_by("pk")
    return boxes.filter(team_id=case.team_id).first() or boxes.first()


def reply_subject(case: Case) -> str:
    """ "Re: subject [№N]": the reference threads the answer even if headers are lost."""
    subject = case.subject
    while subject.lower().startswith(("re:", "на:", "fwd:")):
        subject = subject.partition(":")[2].strip()
    return f"Re: {subject} [{case.reference}]"[:300]


def with_signature(body: str, mailbox: Mailbox) -> str:
    signature = mailbox.signature.strip()
    return f"{body.rstrip()}\n\n-- \n{signature}" if signature else body.rstrip()


@transaction.atomic
def reply_send(*, actor: User, case: Case, body: str, now: datetime | None = None) -> MailMessage:
    """Answer the client by e-mail on the case's thread (or start one to their address)."""
    now = now or timezone.now()
    if not can_edit_case(user=actor, case=case):
        raise NotAllowed({"case": _("You cannot answer on this case.")})
    if not body.strip():
        raise ServiceError({"body": _("Write the answer.")})
    last = _last_thread_mail(case)
    mailbox = _mailbox_for(case, last)
    if mailbox is None:
        raise ServiceError({"body": _("No mailbox is set up for sending.")})
    to = _recipient(case, last)
    if not to:
        raise ServiceError({"body": _("The client has no e-mail address.")})
    references = []
    if last is not None:
        references = [*last.references.split(), last.message_id][-20:]
    text = with_signature(body, mailbox)
    interaction = Interaction.objects.create(
        client_id=case.client_id,
        case=case,
        channel=ChannelKind.EMAIL,
        direction=Direction.OUTBOUND,
        operator=actor,
        started_at=now,
        ended_at=now,
    )
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=EventKind.INTERACTION_LINKED,
        field="channel",
        new_value=ChannelKind.EMAIL,
        created_at=now,
    )
    message = message_add(
        actor=actor,
        case=case,
        body=text,
        visibility=MessageVisibility.PUBLIC,
        interaction=interaction,
        now=now,
    )
    mail = MailMessage.objects.create(
        mailbox=mailbox,
        direction=MailDirection.OUTBOUND,
        status=MailStatus.QUEUED,
        message_id=make_msgid(domain=mailbox.domain).strip("<>"),
        in_reply_to=last.message_id if last is not None else "",
        references=" ".join(references),
        from_address=mailbox.address,
        from_name=mailbox.display_name,
        to_addresses=to,
        subject=reply_subject(case),
        body_text=text,
        case=case,
        interaction=interaction,
        case_message=message,
        author=actor,
        created_at=now,
    )
    Interaction.objects.filter(pk=interaction.pk).update(external_ref=mail.message_id[:100])
    transaction.on_commit(lambda: _enqueue(mail.pk))
    return mail


def _enqueue(mail_id: int) -> None:
    from otklik.mail.tasks import deliver_mail

    try:
        deliver_mail.enqueue(mail_id)
    except Exception:
        logger.warning("Could not enqueue e-mail %s; the scan will send it", mail_id, exc_info=True)


def build_message(mail: MailMessage) -> EmailMessage:
    """The MIME message as it goes out: threading headers, text with signature."""
    out = EmailMessage()
    out["From"] = formataddr((mail.from_name, mail.from_address))
    out["To"] = mail.to_addresses
    out["Subject"] = mail.subject
    out["Date"] = format_datetime(mail.created_at)
    out["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        out["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        out["References"] = " ".join(f"<{ref}>" for ref in mail.references.split())
    # Auto-responders must not answer our replies (RFC 3834), and our own inbound checks
    # drop anything that comes back marked like this.
    out["Auto-Submitted"] = "no"
    out["X-Auto-Response-Suppress"] = "All"
    out.set_content(mail.body_text)
    return out


def _connect(mailbox: Mailbox) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if mailbox.smtp_security == Security.SSL:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            mailbox.smtp_host, mailbox.smtp_port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        smtp = smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, timeout=SMTP_TIMEOUT)
        if mailbox.smtp_security == Security.STARTTLS:
            smtp.starttls(context=context)
    if mailbox.smtp_username:
        smtp.login(mailbox.smtp_username, open_password(mailbox.smtp_password_sealed))
    return smtp


@transaction.atomic
def mark_failed(*, mail: MailMessage, error: str, now: datetime | None = None) -> bool:
    """The mail was not delivered: record why and tell the case (once)."""
    now = now or timezone.now()
    changed = (
        MailMessage.objects.filter(pk=mail.pk)
        .exclude(status=MailStatus.FAILED)
        .update(status=MailStatus.FAILED, error=error[:500])
    )
    if changed and mail.case_id:
        message_add(
            actor=None,
            case=Case.objects.get(pk=mail.case_id),
            body=_("The e-mail «%(subject)s» to %(to)s was not delivered: %(error)s")
            % {"subject": mail.subject, "to": mail.to_addresses, "error": error[:500]},
            visibility=MessageVisibility.INTERNAL,
            author_kind=AuthorKind.SYSTEM,
            now=now,
        )
    return bool(changed)


def deliver(mail_id: int, *, now: datetime | None = None) -> str:
    """Send one queued mail; "sent", "failed", "retry" or "skipped" (not ours to send)."""
    now = now or timezone.now()
    claimed = (
        MailMessage.objects.filter(pk=mail_id, direction=MailDirection.OUTBOUND)
        .filter(
            Q(status=MailStatus.QUEUED)
            | Q(status=MailStatus.SENDING, claimed_at__lt=now - STUCK_AFTER)
        )
        .update(status=MailStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    )
    if not claimed:
        return "skipped"
    mail = MailMessage.objects.select_related("mailbox").get(pk=mail_id)
    try:
        with _connect(mail.mailbox) as smtp:
            refused = smtp.send_message(build_message(mail))
    except smtplib.SMTPRecipientsRefused as exc:
        detail = "; ".join(
            f"{addr}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for addr, (code, text) in exc.recipients.items()
        )
        mark_failed(mail=mail, error=detail, now=now)
        return "failed"
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        if 500 <= exc.smtp_code < 600 or mail.attempts >= MAX_ATTEMPTS:
            mark_failed(mail=mail, error=f"{exc.smtp_code} {text}".strip(), now=now)
            return "failed"
        return _retry(mail, f"{exc.smtp_code} {text}".strip())
    except (OSError, smtplib.SMTPException) as exc:
        if mail.attempts >= MAX_ATTEMPTS:
            mark_failed(mail=mail, error=str(exc) or exc.__class__.__name__, now=now)
            return "failed"
        return _retry(mail, str(exc) or exc.__class__.__name__)
    if refused:
        mark_failed(mail=mail, error="; ".join(f"{a}: {c}" for a, c in refused.items()), now=now)
        return "failed"
    MailMessage.objects.filter(pk=mail.pk).update(status=MailStatus.SENT, sent_at=now, error="")
    return "sent"


def _retry(mail: MailMessage, error: str) -> str:
    MailMessage.objects.filter(pk=mail.pk, status=MailStatus.SENDING).update(
        status=MailStatus.QUEUED, error=error[:500]
    )
    return "retry"


def deliver_due(now: datetime | None = None) -> int:
    """Periodic scan: send queued mail (and mail stuck in sending); the count sent."""
    now = now or timezone.now()
    due = MailMessage.objects.filter(direction=MailDirection.OUTBOUND).filter(
        Q(status=MailStatus.QUEUED) | Q(status=MailStatus.SENDING, claimed_at__lt=now - STUCK_AFTER)
    )
    sent = 0
    for mail_id in due.order_by("created_at").values_list("pk", flat=True)[:100]:
        sent += deliver(mail_id, now=now) == "sent"
    return sent
