"""`manage.py portal_login_code <phone or e-mail>`: a fresh login code for a waiting login.

Codes are stored only as keyed hashes and the sent message keeps the code only encrypted
until delivery (then masked), so the code that was sent cannot be read back. In a demo
without an SMS gateway the tester asks for a code on /portal/login/, then runs this: the
waiting code is replaced by a new one, printed here, which the open login page accepts.
It needs shell and database access on the server; the code is printed, never logged.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from otklik.common.errors import ServiceError
from otklik.portal.services import portal_code_reissue


class Command(BaseCommand):
    help = (
        "Replace the waiting portal login code of a phone or e-mail by a fresh one and "
        "print it (demo and support aid; ask for a code on /portal/login/ first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="Phone (+7 912 574-03-61) or e-mail")

    def handle(self, *args, identifier, **options):
        try:
            row, code = portal_code_reissue(identifier=identifier)
        except ServiceError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        minutes = max(int((row.expires_at - timezone.now()).total_seconds() // 60), 1)
        self.stdout.write(
            f"Login code: {code} (valid {minutes} min, once; the code sent earlier no longer works)"
        )
