"""Reading a one-time code the way only the sending worker can: from the sealed outbox text.

The stored body shows codes masked (otklik.notifications.sealing); tests that play the
client read the code here, before the row is delivered and the sealed text erased.
"""

from django.utils import timezone

from otklik.notifications import sealing
from otklik.notifications.models import Outbox


def sealed_code(row: Outbox) -> str:
    """The secret sealed in an unsent outbox row (fails once sent or expired)."""
    row.refresh_from_db()
    _text, secret = sealing.unseal(
        row.sealed_body, ttl=row.secret_expires_at - row.created_at, now=timezone.now()
    )
    return secret


def sealed_text(row: Outbox) -> str:
    """The full text that the notifier will send for an unsent outbox row."""
    row.refresh_from_db()
    text, _secret = sealing.unseal(
        row.sealed_body, ttl=row.secret_expires_at - row.created_at, now=timezone.now()
    )
    return text
