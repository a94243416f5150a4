"""`manage.py portal_login_code <phone or e-mail>`: the latest login code message (demo aid).

Login codes reach clients only through the outbox (SMS or e-mail); in a demo without an
SMS gateway, whoever runs the server reads the message here. It needs shell and database
access, which already give the outbox, so it reveals nothing new. The code is never logged.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from otklik.common.errors import ServiceError
from otklik.notifications.models import Outbox
from otklik.portal.services import identifier_normalize


class Command(BaseCommand):
    help = "Print the latest portal login code message sent to a phone or e-mail (demo aid)."

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="Phone (+7 912 574-03-61) or e-mail")

    def handle(self, *args, identifier, **options):
        try:
            _kind, address = identifier_normalize(identifier)
        except ServiceError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        row = (
            Outbox.objects.filter(key__startswith="portal-login-code:", address__iexact=address)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            raise CommandError("No login code was sent to this address.")
        age = int((timezone.now() - row.created_at).total_seconds() // 60)
        self.stdout.write(f"{row.body}\n(sent {age} min ago by {row.channel})")
