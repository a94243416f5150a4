"""Messages that carry a secret (one-time codes): the full text only encrypted, briefly.

`notify(..., secret=code)` stores the body with the secret masked and the full text
sealed (Fernet: AES-128-CBC + HMAC-SHA256, with a timestamp) under
OTKLIK_OUTBOX_SECRET_KEY, a key of its own that is not in the database. The notifier
renders the full text at send time; after delivery, when the row dies, or once the
secret's lifetime is over, the sealed text is erased. What remains in the database, the
admin, the logs and a development mail sink is the masked text only.
"""

import base64
import hashlib
import json
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

MASK = "••••••"


def _fernet() -> Fernet:
    # The setting may be any string; hash it to the 32 bytes Fernet needs.
    digest = hashlib.sha256(settings.OTKLIK_OUTBOX_SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def mask(text: str, secret: str) -> str:
    """The text with every occurrence of the secret replaced by dots."""
    return text.replace(secret, MASK) if secret else text


def seal(text: str, secret: str, *, now: datetime) -> str:
    """Encrypt the full text and the secret (the token carries its creation time)."""
    plain = json.dumps({"text": text, "secret": secret}, ensure_ascii=False).encode()
    return _fernet().encrypt_at_time(plain, int(now.timestamp())).decode()


class SealExpired(Exception):
    """The sealed text is past its lifetime or unreadable (key changed): never send it."""


def unseal(token: str, *, ttl: timedelta, now: datetime) -> tuple[str, str]:
    """(full text, secret), if the token is genuine and younger than `ttl`."""
    try:
        plain = _fernet().decrypt_at_time(
            token.encode(), int(ttl.total_seconds()), int(now.timestamp())
        )
    except InvalidToken:
        raise SealExpired("the sealed text expired or cannot be read") from None
    data = json.loads(plain)
    return data["text"], data["secret"]
