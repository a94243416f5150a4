"""Portal login codes: six digits, sent through the notification outbox (SMS to a phone,
e-mail to an address), stored only as an HMAC keyed with SECRET_KEY, good once, for
`CODE_TTL`, for `CODE_MAX_ATTEMPTS` wrong tries. Requests are paced per entered
phone/e-mail and per client (a few at once, then each next one after a doubling delay,
with the time to retry in the message) and counted per IP address; every answer looks
the same whether the phone or e-mail is known or not. The text of the message lives
only encrypted in the outbox until sent (otklik.notifications). Nothing here logs a code.
"""

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otklik.clients.models import ChannelKind, Client, ContactPoint
from otklik.common.errors import ServiceError
from otklik.common.phones import phone_digits
from otklik.common.throttle import (
    AttemptCounter,
    Pacing,
    Throttled,
    keyed_hash,
    one_time_code,
    retry_message,
)
from otklik.portal.models import LoginChannel
from otklik.portal.models import PortalLoginCode as Code

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
THROTTLE_WINDOW_SECONDS = 15 * 60
# Pacing of code requests per phone/e-mail and per client: CODE_REQUESTS_FREE at once,
# then 30 s, 1, 2, 4, 8 min... (at most 15 min) between requests; forgotten after an hour.
CODE_REQUESTS_FREE = 3
CODE_PACING_BASE_SECONDS = 30
CODE_PACING_MAX_SECONDS = 15 * 60
CODE_PACING_RESET_SECONDS = 60 * 60
CODE_REQUESTS_PER_IP = 20
WRONG_CODES_PER_IP = 30
_attempts = AttemptCounter(
    prefix="portal:throttle", namespace="otklik-portal", window_seconds=THROTTLE_WINDOW_SECONDS
)
_pacing = Pacing(
    prefix="portal:pacing",
    namespace="otklik-portal",
    free=CODE_REQUESTS_FREE,
    base_seconds=CODE_PACING_BASE_SECONDS,
    max_seconds=CODE_PACING_MAX_SECONDS,
    reset_seconds=CODE_PACING_RESET_SECONDS,
)


# --- login codes ---------------------------------------------------------------------------


def _code_hash(salt: str, code: str) -> str:
    return keyed_hash("otklik-portal", "otp", salt, code)


def identifier_normalize(raw: str) -> tuple[str, str]:
    """An entered phone or e-mail → (contact kind, the value as stored on ContactPoint)."""
    raw = (raw or "").strip()
    if "@" in raw:
        local, _sep, domain = raw.rpartition("@")
        if local and "." in domain and " " not in raw and len(raw) <= 200:
            return ChannelKind.EMAIL, raw.lower()
    else:
        digits = phone_digits(raw)
        if len(digits) == 10:
            return ChannelKind.PHONE, f"+7{digits}"
    raise ServiceError(
        {"identifier": _("Enter a phone number like +7 916 123-45-67 or an e-mail address.")}
    )


def _throttled(retry_at: datetime, now: datetime, field: str = "identifier") -> Throttled:
    return Throttled(
        {field: _("Too many attempts.") + " " + retry_message(retry_at, now=now)},
        retry_at=retry_at,
    )


@dataclass
class CodeChallenge:
    """What the login page keeps between "send me a code" and "here is the code".

    `code_id` is None when nothing was sent (unknown phone or e-mail): the page looks the
    same, and every code entered is refused. `demo_code` is set only in demo mode.
    """

    code_id: int | None
    channel: str
    demo_code: str | None = None


def _client_for(kind: str, value: str) -> Client | None:
    contacts = ContactPoint.objects.filter(kind=kind)
    contacts = (
        contacts.filter(value__iexact=value)
        if kind == ChannelKind.EMAIL
        else contacts.filter(value=value)
    )
    client_ids = set(contacts.values_list("client_id", flat=True)[:2])
    if len(client_ids) != 1:  # unknown, or shared by two clients: we cannot tell who it is
        return None
    return Client.objects.filter(pk=client_ids.pop()).first()


def show_codes_enabled() -> bool:
    """Demo mode: show the code on the page. Only honoured when DEBUG is on."""
    return bool(settings.DEBUG and getattr(settings, "OTKLIK_PORTAL_SHOW_CODES", False))


def portal_code_request(*, identifier: str, ip: str, now: datetime | None = None) -> CodeChallenge:
    """Send a one-time login code to a client's phone (SMS) or e-mail.

    Raises ServiceError for a malformed entry and Throttled when this phone/e-mail or this
    IP address asked too often. An unknown phone/e-mail gets the same answer as a known one.
    """
    kind, value = identifier_normalize(identifier)
    channel = LoginChannel.SMS if kind == ChannelKind.PHONE else LoginChannel.EMAIL
    now = now or timezone.now()
    by_ip = _attempts.check("request-ip", ip or "-", CODE_REQUESTS_PER_IP, now=now)
    if not by_ip.allowed:
        log.info("portal code request throttled (ip)")
        raise _throttled(by_ip.retry_at, now)
    by_identifier = _pacing.check("request-id", value, now=now)
    if not by_identifier.allowed:
        log.info("portal code request throttled (identifier)")
        raise _throttled(by_identifier.retry_at, now)
    client = _client_for(kind, value)
    if client is None:
        log.info("portal code request for an unknown %s", kind)
        return CodeChallenge(code_id=None, channel=channel)
    if not _pacing.check("request-client", str(client.pk), now=now).allowed:
        # Same page as for a sent code: the throttle must not tell that the client exists.
        log.info("portal code request throttled (client %s)", client.pk)
        return CodeChallenge(code_id=None, channel=channel)
    code_row, code = _code_issue(client=client, channel=channel, address=value, now=now)
    return CodeChallenge(
        code_id=code_row.pk, channel=channel, demo_code=code if show_codes_enabled() else None
    )


@transaction.atomic
def _code_issue(
    *, client: Client, channel: str, address: str, now: datetime | None
) -> tuple[Code, str]:
    now = now or timezone.now()
    # A new code retires the older ones: only the latest message the client got works.
    Code.objects.filter(client=client, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code = one_time_code()
    salt = secrets.token_hex(16)
    row = Code.objects.create(
        client=client,
        channel=channel,
        code_hash=_code_hash(salt, code),
        salt=salt,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    from otklik.notifications.services import notify

    minutes = int(CODE_TTL.total_seconds() // 60)
    with translation.override(settings.LANGUAGE_CODE):
        body = _(
            "Your code to log in to the personal cabinet: %(code)s. It is valid for "
            "%(minutes)d minutes. Do not tell it to anyone, not even our staff."
        ) % {"code": code, "minutes": minutes}
        subject = _("Code to log in to the personal cabinet")
    notify(
        key=f"portal-login-code:{row.pk}",
        channel=channel,
        address=address,
        subject=subject if channel == LoginChannel.EMAIL else "",
        body=body,
        client=client,
        payload={"kind": "portal_login_code", "secret": True},
        secret=code,
        secret_ttl=CODE_TTL,
    )
    log.info("portal login code %s sent to client %s by %s", row.pk, client.pk, channel)
    return row, code


def portal_code_reissue(*, identifier: str, now: datetime | None = None) -> tuple[Code, str]:
    """A fresh code for the client's waiting login challenge, returned, not sent (demo aid).

    Codes are stored only hashed, so nobody can read the one that was sent; whoever has a
    shell on the server (`manage.py portal_login_code`) may instead replace the code of
    the latest unused one: the login page the client already has open accepts the new
    code, the old one stops working. Raises ServiceError when no code is waiting.
    """
    kind, value = identifier_normalize(identifier)
    now = now or timezone.now()
    client = _client_for(kind, value)
    row = (
        Code.objects.filter(client=client, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at", "-id")
        .first()
        if client is not None
        else None
    )
    if row is None:
        raise ServiceError(
            {
                "identifier": _(
                    "No login code is waiting for this client: ask for one on the portal's "
                    "login page first."
                )
            }
        )
    code, salt = one_time_code(), secrets.token_hex(16)
    Code.objects.filter(pk=row.pk).update(
        code_hash=_code_hash(salt, code), salt=salt, attempts=0, expires_at=now + CODE_TTL
    )
    log.info("portal login code %s re-issued from the command line", row.pk)
    row.refresh_from_db()
    return row, code


def _code_refused() -> ServiceError:
    return ServiceError(
        {"code": _("The code is wrong or no longer valid. Check it or ask for a new one.")}
    )


def portal_code_verify(
    *, code_id: int | None, code: str, ip: str, now: datetime | None = None
) -> Client:
    """Check a login code; return the client on success. Every failure looks the same."""
    now = now or timezone.now()
    if _attempts.peek("wrong-code-ip", ip or "-", now=now) >= WRONG_CODES_PER_IP:
        raise _throttled(_attempts.window_end(now=now), now, field="code")
    code = "".join((code or "").split())
    row = Code.objects.filter(pk=code_id).select_related("client").first() if code_id else None
    usable = (
        row is not None
        and row.used_at is None
        and row.expires_at > now
        and row.attempts < CODE_MAX_ATTEMPTS
    )
    # Compare even when the row is unusable, so timing does not tell the cases apart.
    expected = row.code_hash if row is not None else _code_hash("none", "none")
    matches = hmac.compare_digest(expected, _code_hash(row.salt if row else "none", code))
    if usable and matches:
        claimed = Code.objects.filter(
            pk=row.pk, used_at__isnull=True, expires_at__gt=now, attempts__lt=CODE_MAX_ATTEMPTS
        ).update(used_at=now)
        if claimed == 1:
            log.info("portal login of client %s with code %s", row.client_id, row.pk)
            return row.client
    if row is not None and row.used_at is None:
        Code.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    _attempts.hit("wrong-code-ip", ip or "-", now=now)
    log.info("portal login code refused (code %s)", code_id or "-")
    raise _code_refused()
