"""Reading the mailboxes over IMAP: new messages since the last UID, each taken once.

The folder's UIDVALIDITY and the highest UID taken are kept on the mailbox; a changed
UIDVALIDITY (the folder was rebuilt) starts again from the first message, and the
Message-ID check in `inbound.mail_receive` keeps what was already taken from coming in
twice. A poll claims the mailbox with a conditional update, so two workers never read
the same box at once.
"""

import contextlib
import imaplib
import logging
import re
import ssl
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from otklik.mail.crypto import open_password
from otklik.mail.inbound import mail_receive
from otklik.mail.models import Mailbox, Security

logger = logging.getLogger(__name__)

BATCH = 50
IMAP_TIMEOUT = 30
POLL_EVERY = timedelta(seconds=25)
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class MailboxError(Exception):
    """The server refused us (login, folder): recorded on the mailbox for the admin."""


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if mailbox.imap_security == Security.SSL:
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            mailbox.imap_host,
            mailbox.imap_port,
            ssl_context=ssl.create_default_context(),
            timeout=IMAP_TIMEOUT,
        )
    else:
        imap = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT)
        if mailbox.imap_security == Security.STARTTLS:
            imap.starttls(ssl_context=ssl.create_default_context())
    try:
        imap.login(mailbox.imap_username, open_password(mailbox.imap_password_sealed))
    except imaplib.IMAP4.error as exc:
        imap.shutdown()
        raise MailboxError(f"login refused: {exc}") from exc
    return imap


def poll_mailbox(*, mailbox: Mailbox, now: datetime | None = None) -> int:
    """Take the new messages of one mailbox; the number of new ones stored."""
    now = now or timezone.now()
    taken = 0
    try:
        imap = _connect(mailbox)
        try:
            status, data = imap.select(_quote(mailbox.imap_folder))
            if status != "OK":
                raise MailboxError(f"folder {mailbox.imap_folder!r}: {data}")
            _status, response = imap.status(_quote(mailbox.imap_folder), "(UIDVALIDITY)")
            found = _UIDVALIDITY.search(response[0] or b"")
            validity = int(found.group(1)) if found else 0
            last_uid = mailbox.last_uid if validity == mailbox.uid_validity else 0
            _status, data = imap.uid("SEARCH", None, f"UID {last_uid + 1}:*")
            uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last_uid)
            for uid in uids[:BATCH]:
                _status, parts = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
                if raw is not None:
                    _mail, created = mail_receive(mailbox=mailbox, raw=raw, now=timezone.now())
                    taken += created
                    imap.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
                last_uid = uid
                Mailbox.objects.filter(pk=mailbox.pk).update(
                    uid_validity=validity, last_uid=last_uid
                )
            mailbox.uid_validity, mailbox.last_uid = validity, last_uid
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.logout()
    except (OSError, imaplib.IMAP4.error, MailboxError) as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=str(exc)[:500])
        logger.warning("Mailbox %s: %s", mailbox.address, exc)
        raise
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="", last_polled_at=now)
    return taken


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll_due(now: datetime | None = None) -> int:
    """Periodic scan: poll every active IMAP mailbox not polled in the last interval."""
    now = now or timezone.now()
    total = 0
    due = Mailbox.objects.filter(is_active=True).exclude(imap_host="")
    for mailbox in due.filter(
        Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=now - POLL_EVERY)
    ):
        # Claim: only the worker whose update changed the row polls this box now.
        claimed = Mailbox.objects.filter(
            pk=mailbox.pk, last_polled_at=mailbox.last_polled_at
        ).update(last_polled_at=now)
        if not claimed:
            continue
        try:
            total += poll_mailbox(mailbox=mailbox, now=now)
        except (OSError, imaplib.IMAP4.error, MailboxError):
            continue
    return total
