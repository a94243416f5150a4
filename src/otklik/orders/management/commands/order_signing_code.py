"""`manage.py order_signing_code <order>`: a fresh signing code for a waiting signature.

The demo's counterpart of `portal_login_code` for orders: the client presses «Получить
код» on the order in the personal cabinet, the tester runs this with the order's number
(«Р-12» or 12) and types the printed code. The code sent earlier stops working. Needs a
shell on the server; the code is printed, never logged or stored in clear.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from otklik.common.errors import ServiceError
from otklik.orders.models import Order
from otklik.orders.services import order_signing_code_reissue


class Command(BaseCommand):
    help = (
        "Replace the waiting signing code of an order by a fresh one and print it (demo and "
        "support aid; the client asks for a code on the order's page first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("order", help="Order number: Р-12, R-12 or 12")

    def handle(self, *args, order, **options):
        match = re.fullmatch(r"\s*(?:[РрRr]-?)?(\d+)\s*", order)
        found = Order.objects.filter(pk=int(match.group(1))).first() if match else None
        if found is None:
            raise CommandError(f"No order {order!r}.")
        try:
            row, code = order_signing_code_reissue(order=found)
        except ServiceError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        minutes = max(int((row.expires_at - timezone.now()).total_seconds() // 60), 1)
        self.stdout.write(
            f"Signing code for {found.reference}: {code} (valid {minutes} min, once; the code "
            "sent earlier no longer works)"
        )
