"""How a notification leaves the building, one class per kind of transport.

A notifier's `send(message)` returns on success and raises `DeliveryError` (or any
exception) on failure; the caller (`delivery.deliver`) records the error and retries.

Delivery is at-least-once: a worker may crash after the message left but before the row
is marked sent, and then the message is sent again. Every transport therefore carries the
outbox row's idempotency key (the `Idempotency-Key` header of a webhook, a Message-ID
derived from it for e-mail) so the receiver can drop the repeat.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from otklik.notifications.models import Outbox

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Otklik-Signature"
TIMESTAMP_HEADER = "X-Otklik-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeliveryError(Exception):
    """The transport refused or failed; the row is retried later."""


class Notifier(Protocol):
    def send(self, message: Outbox) -> None: ...


def mask_address(address: str) -> str:
    """Enough of an address to tell messages apart in a log, not enough to reuse it."""
    if "@" in address:
        local, _sep, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) <= 4:
        return "*" * len(address)
    return "*" * (len(address) - 4) + address[-4:]


def message_id_for(key: str) -> str:
    """A stable Message-ID per outbox key, so a repeated e-mail is recognisably the same."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "otklik.local"
    return f"<outbox-{digest}@{domain}>"


# Mail backends that are development sinks, not a way to a client: a message with a
# one-time code is written there with the code masked, so no code survives in var/mail or
# a console log. The tester gets codes from `manage.py portal_login_code` / `order_signing_code`.
DEVELOPMENT_MAIL_SINKS = {
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
}


def mail_backend_is_development_sink() -> bool:
    mailers = getattr(settings, "MAILERS", None) or {}
    backend = (mailers.get("default") or {}).get("BACKEND", "")
    return backend in DEVELOPMENT_MAIL_SINKS


class EmailNotifier:
    """Sends through Django's mail backend (EMAIL_BACKEND: file, console, smtp...)."""

    def send(self, message: Outbox) -> None:
        body = message.body
        masked = getattr(message, "masked_body", None)
        if masked is not None and mail_backend_is_development_sink():
            body = masked
        email = EmailMessage(
            subject=message.subject or _("Notification"),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={
                "Message-ID": message_id_for(message.key),
                "X-Otklik-Idempotency-Key": message.key,
            },
        )
        if email.send() != 1:
            raise DeliveryError("the mail backend accepted no message")


class LoggingNotifier:
    """Logs that a message would go out; never logs the text, which may hold secrets."""

    def send(self, message: Outbox) -> None:
        logger.info(
            "notification id=%s channel=%s to=%s length=%d",
            message.pk,
            message.channel,
            mask_address(message.address),
            len(message.body),
        )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is an error for a webhook, not something to follow


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex, prefixed "sha256="."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_payload(message: Outbox) -> dict:
    return {
        "id": message.pk,
        "key": message.key,
        "channel": message.channel,
        "address": message.address,
        "subject": message.subject,
        "body": message.body,
        "payload": message.payload,
        "case_id": message.case_id,
        "created_at": message.created_at.isoformat(),
    }


class WebhookNotifier:
    """POSTs the message as JSON to a gateway (SMS, push provider, integration).

    Headers: `Idempotency-Key` (the outbox key), `X-Otklik-Timestamp` and, when
    OTKLIK_WEBHOOK_SECRET is set, `X-Otklik-Signature` = HMAC-SHA256 of
    "<timestamp>.<body>". Any status other than 2xx, a redirect or a timeout is a failure.
    """

    def __init__(self, url: str, *, secret: str = "", timeout: float = 10):
        if not url.startswith(("http://", "https://")):
            raise DeliveryError("webhook URL must be http(s)")
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def send(self, message: Outbox) -> None:
        body = json.dumps(webhook_payload(message), ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            IDEMPOTENCY_HEADER: message.key,
            TIMESTAMP_HEADER: timestamp,
            "User-Agent": "Otklik-Notifier/1",
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, timestamp, body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked in __init__)
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(f"webhook unreachable: {reason}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook answered HTTP {status}")


def notifier_for(channel: str) -> Notifier:
    """The notifier configured for a channel in settings.NOTIFIERS."""
    config = settings.NOTIFIERS.get(channel) or {"BACKEND": "logging"}
    backend = config["BACKEND"]
    if backend == "email":
        return EmailNotifier()
    if backend == "webhook":
        return WebhookNotifier(
            config["URL"], secret=settings.WEBHOOK_SECRET, timeout=settings.WEBHOOK_TIMEOUT
        )
    return LoggingNotifier()
