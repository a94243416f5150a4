"""The PBX signs each event: `X-Otklik-Signature: t=<unix time>,v1=<hex>` where the hex is
HMAC-SHA256 under OTKLIK_CTI_SECRET of "<t>.<raw body>". A signature older or newer than
five minutes is refused, so a captured request cannot be replayed later (and a replay
within the window is answered from the event id, changing nothing)."""

import hashlib
import hmac
import time

from django.conf import settings

TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    pass


def sign(body: bytes, *, at: int | None = None, secret: str | None = None) -> str:
    """The header value for `body` (what a PBX adapter, and the tests, send)."""
    stamp = int(time.time()) if at is None else at
    key = (secret or settings.OTKLIK_CTI_SECRET).encode()
    digest = hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(header: str, body: bytes, *, now: float | None = None) -> None:
    """Raise BadSignature unless the header signs this body, recently."""
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        stamp = int(parts.get("t", ""))
    except ValueError:
        raise BadSignature("no timestamp") from None
    now = time.time() if now is None else now
    if abs(now - stamp) > TOLERANCE_SECONDS:
        raise BadSignature("timestamp outside the allowed window")
    expected = sign(body, at=stamp).partition(",v1=")[2]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise BadSignature("signature does not match")
