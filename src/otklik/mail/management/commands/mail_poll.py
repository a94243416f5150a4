"""Poll the IMAP mailboxes once now: `manage.py mail_poll` (the worker does it anyway)."""

from django.core.management.base import BaseCommand

from otklik.mail.imap import MailboxError, poll_mailbox
from otklik.mail.models import Mailbox


class Command(BaseCommand):
    help = "Read new mail from every active IMAP mailbox once."

    def handle(self, *args, **options):
        for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host=""):
            try:
                taken = poll_mailbox(mailbox=mailbox)
            except (OSError, MailboxError) as exc:
                self.stderr.write(f"{mailbox.address}: {exc}")
                continue
            self.stdout.write(f"{mailbox.address}: {taken} new")
