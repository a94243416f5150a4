"""The client signs an order with a one-time code.

Signing codes follow the portal's login codes: six digits through the outbox (the text
only sealed until sent, then masked), stored as an HMAC keyed with SECRET_KEY, good once,
for `CODE_TTL`, for `CODE_MAX_ATTEMPTS` wrong tries; requests are paced per order and
counted per IP address, and a refusal says when to try again.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from otklik.audit.services import audit_record
from otklik.clients.models import (
    ChannelKind,
    Client,
)
from otklik.common.errors import ConflictError, ServiceError
from otklik.common.throttle import one_time_code, retry_message
from otklik.orders import pdf
from otklik.orders.models import (
    DocumentKind,
    Order,
    OrderEventKind,
    OrderSigningCode,
    OrderStatus,
    OrderStep,
)
from otklik.orders.services.common import (
    CODE_MAX_ATTEMPTS,
    CODE_REQUESTS_PER_IP,
    CODE_TTL,
    WRONG_CODES_PER_IP,
    DocumentDamaged,
    Throttled,
    _attempts,
    _case_event,
    _client_address,
    _code_hash,
    _event,
    _ip,
    _order_pdf,
    _pacing,
    _tell_staff,
    document_read,
    document_store,
)
from otklik.orders.services.workflow import (
    kick,
)

# --- signing ----------------------------------------------------------------------------------


@dataclass
class SigningChallenge:
    code_id: int
    channel: str
    address_hint: str
    demo_code: str | None = None


def _mask(address: str) -> str:
    if "@" in address:
        local, _sep, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return "*" * max(len(address) - 4, 0) + address[-4:]


def _own(client: Client, order: Order) -> None:
    if order.client_id != client.pk:  # the selectors already 404; this is a second lock
        raise ServiceError({"order": _("This order is not yours.")})


def _waiting_for_signature(order: Order) -> None:
    if order.status != OrderStatus.SENT_FOR_SIGNATURE:
        raise ServiceError({"code": _("This order is not waiting for your signature.")})


def order_signing_code_request(
    *, client: Client, order: Order, ip: str, now: datetime | None = None
) -> SigningChallenge:
    """Send a one-time code to sign this order (SMS to the phone, else e-mail)."""
    from otklik.notifications.services import notify
    from otklik.portal.services import show_codes_enabled

    _own(client, order)
    _waiting_for_signature(order)
    now = now or timezone.now()
    verdict = _attempts.check("code-ip", ip or "-", CODE_REQUESTS_PER_IP, now=now)
    if verdict.allowed:
        verdict = _pacing.check("code-order", str(order.pk), now=now)
    if not verdict.allowed:
        raise Throttled(
            {"code": _("Too many codes requested.") + " " + retry_message(verdict.retry_at)},
            retry_at=verdict.retry_at,
        )
    channel, address = "sms", _client_address(client, ChannelKind.PHONE)
    if not address:
        channel, address = "email", _client_address(client, ChannelKind.EMAIL)
    if not address:
        raise ServiceError({"code": _("We have no phone or e-mail to send the code to.")})
    with transaction.atomic():
        OrderSigningCode.objects.filter(
            order=order, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        code = one_time_code()
        salt = secrets.token_hex(16)
        row = OrderSigningCode.objects.create(
            order=order,
            client=client,
            channel=channel,
            address_hint=_mask(address),
            code_hash=_code_hash(salt, code),
            salt=salt,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        with translation.override(settings.LANGUAGE_CODE):
            body = _(
                "Code to sign order %(ref)s «%(title)s»: %(code)s. Valid for %(minutes)d "
                "minutes. Do not tell it to anyone."
            ) % {
                "ref": order.reference,
                "title": order.title,
                "code": code,
                "minutes": int(CODE_TTL.total_seconds() // 60),
            }
            subject = _("Code to sign order %(ref)s") % {"ref": order.reference}
        notify(
            key=f"order-signing-code:{row.pk}",
            channel=channel,
            address=address,
            subject=subject if channel == "email" else "",
            body=body,
            client=client,
            case=order.case,
            payload={"kind": "order_signing_code", "secret": True, "order_id": order.pk},
            secret=code,
            secret_ttl=CODE_TTL,
        )
        _event(order, OrderEventKind.CODE_SENT, now, by_client=True, detail=channel, ip=_ip(ip))
    return SigningChallenge(
        code_id=row.pk,
        channel=channel,
        address_hint=row.address_hint,
        demo_code=code if show_codes_enabled() else None,
    )


def order_signing_code_reissue(
    *, order: Order, now: datetime | None = None
) -> tuple[OrderSigningCode, str]:
    """A fresh code for the order's waiting signing code, returned, not sent (demo aid).

    Like `portal.services.portal_code_reissue`: the code that was sent cannot be read
    back (hashed; the message masked), so `manage.py order_signing_code` replaces the
    latest unused code by a new one, which the open signing page accepts.
    """
    now = now or timezone.now()
    _waiting_for_signature(order)
    row = (
        OrderSigningCode.objects.filter(order=order, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None:
        raise ServiceError(
            {
                "code": _(
                    "No signing code is waiting for this order: the client asks for one on "
                    "the order's page in the personal cabinet first."
                )
            }
        )
    code, salt = one_time_code(), secrets.token_hex(16)
    OrderSigningCode.objects.filter(pk=row.pk).update(
        code_hash=_code_hash(salt, code), salt=salt, attempts=0, expires_at=now + CODE_TTL
    )
    row.refresh_from_db()
    return row, code


def _refuse(order: Order, row: OrderSigningCode | None, ip: str, message: str, now) -> None:
    _attempts.hit("wrong-code-ip", ip or "-", now=now)
    _event(
        order,
        OrderEventKind.CODE_REFUSED,
        now,
        by_client=True,
        detail=f"code {row.pk if row else '-'}: {message}",
        ip=_ip(ip),
    )
    raise ServiceError({"code": message})


def order_sign(
    *,
    client: Client,
    order: Order,
    code_id: int | None,
    code: str,
    ip: str,
    now: datetime | None = None,
) -> Order:
    """Sign the order with a one-time code (simple electronic signature).

    A wrong, expired, used or foreign code is refused with a clear message and signs
    nothing; wrong tries are counted. On success the hash of the document the client
    read is frozen, a signed PDF with the signature block is stored, the workflow steps
    are created and the workflow starts after the commit.
    """
    now = now or timezone.now()
    _own(client, order)
    if _attempts.peek("wrong-code-ip", ip or "-", now=now) >= WRONG_CODES_PER_IP:
        retry_at = _attempts.window_end(now=now)
        raise Throttled(
            {"code": _("Too many wrong codes.") + " " + retry_message(retry_at, now=now)},
            retry_at=retry_at,
        )
    _waiting_for_signature(order)
    entered = "".join((code or "").split())
    row = (
        OrderSigningCode.objects.filter(pk=code_id, order=order, client=client).first()
        if code_id
        else None
    )
    # Compare even without a usable row, so timing does not tell the cases apart.
    expected = row.code_hash if row else _code_hash("none", "none")
    matches = hmac.compare_digest(expected, _code_hash(row.salt if row else "", entered))
    if row is None:
        _refuse(order, row, ip, _("Ask for a code to sign this order first."), now)
    if row.used_at is not None:
        _refuse(order, row, ip, _("This code has already been used. Ask for a new one."), now)
    if row.expires_at <= now:
        _refuse(order, row, ip, _("The code has expired. Ask for a new one."), now)
    if row.attempts >= CODE_MAX_ATTEMPTS:
        _refuse(order, row, ip, _("Too many wrong attempts. Ask for a new code."), now)
    if not matches:
        OrderSigningCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        left = CODE_MAX_ATTEMPTS - row.attempts - 1
        message = (
            _("The code is wrong. Attempts left: %(n)d.") % {"n": left}
            if left > 0
            else _("The code is wrong. Too many wrong attempts: ask for a new code.")
        )
        _refuse(order, row, ip, message, now)
    return _sign(client=client, order=order, row=row, ip=ip, now=now)


@transaction.atomic
def _sign(*, client: Client, order: Order, row: OrderSigningCode, ip: str, now: datetime) -> Order:
    claimed = OrderSigningCode.objects.filter(
        pk=row.pk, used_at__isnull=True, expires_at__gt=now, attempts__lt=CODE_MAX_ATTEMPTS
    ).update(used_at=now)
    if claimed != 1:
        raise ServiceError({"code": _("This code has already been used. Ask for a new one.")})
    document = order.document
    try:
        content = document_read(document)
    except DocumentDamaged:
        raise ServiceError(
            {"order": _("The document cannot be verified; the operator will send it again.")}
        ) from None
    changed = Order.objects.filter(pk=order.pk, status=OrderStatus.SENT_FOR_SIGNATURE).update(
        status=OrderStatus.SIGNED,
        document_hash=document.sha256,
        signed_at=now,
        signer_ip=_ip(ip),
        signature_code=row,
        updated_at=now,
    )
    if changed != 1:
        raise ConflictError({"code": _("This order is not waiting for your signature.")})
    order.refresh_from_db()
    assert hashlib.sha256(content).hexdigest() == order.document_hash
    local = timezone.localtime(now)
    with translation.override(settings.LANGUAGE_CODE):
        block = pdf.SignatureBlock(
            heading=_("Signed with a simple electronic signature"),
            lines=[
                (_("Signer"), client.full_name),
                (_("Signed at"), date_format(local, "d.m.Y H:i:s") + f" ({local.tzname()})"),
                (_("IP address"), _ip(ip) or "—"),
                (_("One-time code id"), str(row.pk)),
                (_("Sent to"), row.address_hint),
                (_("Document SHA-256"), order.document_hash),
            ],
        )
        signed_title = _("%(title)s (signed)") % {"title": order.title}
    signed = document_store(
        order=order,
        kind=DocumentKind.SIGNED_ORDER,
        title=signed_title,
        content=_order_pdf(order, signature=block),
        now=now,
    )
    order.signed_document = signed
    order.save(update_fields=["signed_document"])
    _steps_create(order, now)
    _event(
        order,
        OrderEventKind.SIGNED,
        now,
        by_client=True,
        detail=f"code {row.pk}, sha256 {order.document_hash}",
        ip=_ip(ip),
    )
    _case_event(order.case, None, "order_signed", order.reference, now)
    audit_record(
        actor=None,
        action="order.sign",
        via="portal",
        client_id=client.pk,
        obj=order,
        detail=f"ip {_ip(ip) or '-'}, code {row.pk}",
    )
    _tell_staff(
        order,
        _("%(client)s signed order %(ref)s in the personal cabinet")
        % {"client": client.full_name, "ref": order.reference},
        "order.signed",
    )
    transaction.on_commit(lambda: kick(order.pk))
    return order


def _steps_create(order: Order, now: datetime) -> None:
    OrderStep.objects.bulk_create(
        [
            OrderStep(
                order=order,
                seq=index,
                code=spec["code"],
                name=spec["name"],
                name_en=spec.get("name_en", ""),
                executor=spec["executor"],
                next_attempt_at=now,
            )
            for index, spec in enumerate(order.template.steps, start=1)
        ]
    )
