"""The SMTP/LMTP receiver for sites whose mail gateway delivers to us (aiosmtpd).

Only recipients that are active mailboxes are accepted (550 for the rest), so the
gateway cannot be used as a relay; each accepted message goes through
`inbound.mail_receive` exactly as a polled one does (duplicates by Message-ID included).
The database work runs in a worker thread, never in the event loop.
"""

import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from django.db import close_old_connections

from otklik.mail.inbound import mail_receive
from otklik.mail.models import Mailbox

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 30 * 1024 * 1024


def _known(address: str) -> bool:
    try:
        return Mailbox.objects.filter(address__iexact=address, is_active=True).exists()
    finally:
        close_old_connections()


def deliver_to_mailboxes(recipients: list[str], raw: bytes) -> int:
    """Store the message once per recipient mailbox; the number of new rows."""
    stored = 0
    try:
        for mailbox in Mailbox.objects.filter(is_active=True):
            if any(mailbox.address.lower() == r.lower() for r in recipients):
                _mail, created = mail_receive(mailbox=mailbox, raw=raw)
                stored += created
    finally:
        close_old_connections()
    return stored


class MailboxHandler:
    """aiosmtpd handler: accept mail for our mailboxes only."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not await asyncio.to_thread(_known, address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        try:
            await asyncio.to_thread(deliver_to_mailboxes, list(envelope.rcpt_tos), raw)
        except Exception:
            logger.exception("Could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        return "250 2.0.0 Message accepted"


class LmtpController(Controller):
    """The same receiver speaking LMTP (what Postfix or Exim hand local mail over with)."""

    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


def gateway(host: str, port: int, *, lmtp: bool = False) -> Controller:
    """A controller (not yet started) listening on host:port."""
    kind = LmtpController if lmtp else Controller
    return kind(MailboxHandler(), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES)
