"""Writes on orders: draft, send for signature, sign with a one-time code, run the workflow.

Signing codes follow the portal's login codes: six digits through the outbox, stored as
an HMAC keyed with SECRET_KEY, good once, for `CODE_TTL`, for `CODE_MAX_ATTEMPTS` wrong
tries; requests are throttled per order, per client and per IP address.

The workflow runner (`workflow_advance`) claims the first unfinished step with one
conditional UPDATE that also sets a lease; only the caller whose UPDATE changed the row
runs the step, and it is marked done only if the claim is still its own. A runner that
dies mid-step leaves the step `running`; when the lease ends the periodic scan
(`workflow_scan`) claims it again and the idempotent executor repeats nothing.
"""

import hashlib
import hmac
import logging
import os
import random
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.template import Context, Engine
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from otklik.accounts.models import Department, Role, User
from otklik.audit.services import audit_record
from otklik.cases.models import Case, CaseEvent, EventKind
from otklik.cases.selectors import can_edit_case
from otklik.clients.models import (
    ChannelKind,
    Client,
    ContactPoint,
    Product,
    ProductKind,
    ProductStatus,
)
from otklik.clients.product_details import FUND_TYPE_LABELS
from otklik.common.errors import ConflictError, ServiceError
from otklik.common.throttle import AttemptCounter, keyed_hash
from otklik.orders import pdf, steps
from otklik.orders.models import (
    DocumentKind,
    Order,
    OrderDocument,
    OrderEvent,
    OrderEventKind,
    OrderSigningCode,
    OrderStatus,
    OrderStep,
    OrderTemplate,
    StepStatus,
)

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
THROTTLE_WINDOW_SECONDS = 15 * 60
CODE_REQUESTS_PER_ORDER = 5
CODE_REQUESTS_PER_IP = 20
WRONG_CODES_PER_IP = 30
_attempts = AttemptCounter(
    prefix="orders:throttle", namespace="otklik-orders", window_seconds=THROTTLE_WINDOW_SECONDS
)
MAX_FIELD = 500
# Test hook: "close_contract:30" makes the runner sleep 30 s after that step's effect and
# before marking it done, so a test can kill the worker mid-step.
PAUSE_ENV = "OTKLIK_ORDERS_TEST_PAUSE_IN_STEP"

_engine = Engine(autoescape=False)  # documents are plain text; HTML pages escape it


class Throttled(ServiceError):
    """Too many signing codes or wrong codes; try again later."""


class DocumentDamaged(Exception):
    """A stored document no longer matches its hash (or is missing)."""


# --- small helpers ---------------------------------------------------------------------------


def _event(
    order: Order,
    kind: str,
    now: datetime,
    *,
    actor: User | None = None,
    by_client: bool = False,
    step: OrderStep | None = None,
    detail: str = "",
    ip: str | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        by_client=by_client,
        step_seq=step.seq if step is not None else None,
        detail=detail[:500],
        ip=ip if ip and ip != "-" else None,
        created_at=now,
    )


def _case_event(case: Case, actor: User | None, field: str, value: str, now: datetime) -> None:
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=EventKind.FIELD_CHANGED,
        field=field,
        new_value=value[:300],
        created_at=now,
    )
    Case.objects.filter(pk=case.pk).update(updated_at=now)


def _tell_staff(order: Order, text: str, kind: str, exclude: User | None = None) -> None:
    from otklik.live.services import publish

    user_ids = {order.case.owner_id, order.drafted_by_id} - {None, getattr(exclude, "pk", None)}
    if user_ids:
        publish(
            user_ids=sorted(user_ids),
            kind=kind,
            text=text,
            case=order.case,
            payload={"order_id": order.pk},
        )


def _day(value: date | None) -> str:
    return date_format(value, "d.m.Y") if value else ""


def _code_hash(salt: str, code: str) -> str:
    return keyed_hash("otklik-orders", "otp", salt, code)


def _ip(ip: str | None) -> str | None:
    return ip if ip and ip != "-" else None


def _client_address(client: Client, kind: str) -> str:
    contact = (
        ContactPoint.objects.filter(client=client, kind=kind)
        .exclude(reachability="unreachable")
        .order_by("-is_primary", "id")
        .first()
    )
    return contact.value if contact else ""


def portal_order_url(order: Order) -> str:
    return urljoin(settings.OTKLIK_PORTAL_URL, reverse("orders:portal_detail", args=[order.pk]))


# --- documents ---------------------------------------------------------------------------


def document_store(
    *, order: Order, kind: str, title: str, content: bytes, now: datetime
) -> OrderDocument:
    """Write a PDF under MEDIA_ROOT/orders/ and record it with its SHA-256 (once per kind)."""
    existing = OrderDocument.objects.filter(order=order, kind=kind).first()
    if existing is not None:
        return existing
    digest = hashlib.sha256(content).hexdigest()
    name = default_storage.save(f"orders/{order.pk}/{kind}-{digest[:16]}.pdf", ContentFile(content))
    try:
        with transaction.atomic():
            return OrderDocument.objects.create(
                order=order,
                kind=kind,
                title=title[:300],
                file=name,
                sha256=digest,
                size=len(content),
                created_at=now,
            )
    except Exception:
        default_storage.delete(name)
        existing = OrderDocument.objects.filter(order=order, kind=kind).first()
        if existing is not None:  # a concurrent runner stored it first
            return existing
        raise


def document_read(document: OrderDocument) -> bytes:
    """The document's bytes, after checking them against the stored SHA-256."""
    try:
        with default_storage.open(document.file, "rb") as handle:
            content = handle.read()
    except OSError as exc:
        raise DocumentDamaged(f"document {document.pk} is missing") from exc
    if not hmac.compare_digest(hashlib.sha256(content).hexdigest(), document.sha256):
        log.error("order document %s does not match its hash", document.pk)
        raise DocumentDamaged(f"document {document.pk} does not match its hash")
    return content


def _subtitle(order: Order, on: date) -> str:
    return _("%(ref)s of %(date)s") % {"ref": order.reference, "date": _day(on)}


def _order_facts(order: Order) -> list[tuple[str, str]]:
    fields = order.fields
    return [
        (_("Client"), fields.get("client_full_name", "")),
        (_("Date of birth"), fields.get("client_birth_date", "")),
        (_("Contract"), fields.get("contract_number", "")),
    ]


def _order_pdf(order: Order, signature: pdf.SignatureBlock | None = None) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        return pdf.render_document(
            title=order.title,
            subtitle=_subtitle(order, timezone.localdate(order.drafted_at)),
            facts=_order_facts(order),
            text=order.text,
            signature=signature,
            footer=_(
                "The order is signed by the client in the personal cabinet with a one-time "
                "code (simple electronic signature)."
            ),
        )


# --- fields from the client card ------------------------------------------------------------


def _units(value) -> str:
    try:
        number = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{number:f}".replace(".", ",")


def _money(value) -> str:
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    whole, _sep, cents = f"{number:f}".partition(".")
    groups = f"{int(whole):,}".replace(",", " ")
    return f"{groups},{cents}"


def _payout_account(client: Client) -> Product | None:
    return (
        client.products.filter(kind=ProductKind.BANK_ACCOUNT)
        .exclude(status=ProductStatus.CLOSED)
        .order_by("id")
        .first()
    )


def order_products(*, template: OrderTemplate, client: Client) -> list[Product]:
    """The client's products an order of this template may be about (open ones first)."""
    return list(
        client.products.filter(kind__in=template.product_kinds or [])
        .exclude(status=ProductStatus.CLOSED)
        .order_by("id")
    )


def order_fields_prefill(
    *, template: OrderTemplate, client: Client, product: Product | None, today: date | None = None
) -> dict:
    """Every field of the document, taken from the client card."""
    today = today or timezone.localdate()
    account = _payout_account(client)
    fields = {
        "client_full_name": client.full_name,
        "client_birth_date": _day(client.birth_date),
        "contract_number": product.number if product else "",
        "contract_name": product.name if product else "",
        "contract_open_date": _day(product.opened_on) if product else "",
        "provider": product.provider if product else "",
        "bank_account_number": account.number if account else "",
        "bank_name": account.provider if account else "",
        "document_date": _day(today),
        "fund_units": [],
        "note": "",
    }
    if product is not None and product.kind == ProductKind.IIS:
        fields["iis_type"] = str((product.details or {}).get("iis_type", ""))
        for unit in product.children.filter(kind=ProductKind.FUND_UNITS).order_by("id"):
            details = unit.details or {}
            fields["fund_units"].append(
                {
                    "name": unit.name,
                    "number": unit.number,
                    "fund_type": FUND_TYPE_LABELS.get(details.get("fund_type", ""), ""),
                    "units": _units(details.get("units", "")),
                    "frozen": bool(details.get("frozen")),
                    "value_rub": _money(details.get("value_rub")),
                }
            )
    if product is not None and product.kind == ProductKind.CARD:
        pan = (product.details or {}).get("pan", "")
        fields["card_name"] = product.name
        fields["card_number_masked"] = f"•••• {pan[-4:]}" if pan else ""
        fields["individual_terms"] = ""
        fields["delivery"] = "в отделении банка"
    if template.code == "withdraw_funds":
        fields["amount"] = ""
    return fields


def _validate(template: OrderTemplate, fields: dict) -> dict:
    errors = {}
    for spec in template.fields_schema:
        name = spec["name"]
        value = str(fields.get(name) or "").strip()
        if len(value) > MAX_FIELD:
            errors[name] = _("At most 500 characters.")
        elif spec.get("required") and not value:
            errors[name] = _("This field is required.")
        elif value and spec.get("type") == "money":
            try:
                amount = Decimal(value.replace(" ", "").replace(",", "."))
            except InvalidOperation:
                amount = None
            if amount is None or amount <= 0 or amount.as_tuple().exponent < -2:
                errors[name] = _("Enter an amount in roubles, e.g. 15000 or 15000,50.")
            else:
                value = _money(amount)
        fields[name] = value
    if errors:
        raise ServiceError(errors)
    return fields


def order_text_render(*, template: OrderTemplate, fields: dict) -> str:
    """The document text: the template filled with the fields (plain text)."""
    return _engine.from_string(template.body).render(Context(fields)).strip()


@dataclass
class OrderPreview:
    fields: dict
    text: str
    errors: dict


def order_preview(
    *,
    template: OrderTemplate,
    client: Client,
    product: Product | None,
    overrides: dict | None = None,
) -> OrderPreview:
    """What the document will say with these corrections (nothing is written)."""
    fields = order_fields_prefill(template=template, client=client, product=product)
    fields.update(_editable(template, overrides))
    errors: dict = {}
    try:
        fields = _validate(template, dict(fields))
    except ServiceError as exc:
        errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
    return OrderPreview(fields, order_text_render(template=template, fields=fields), errors)


def _editable(template: OrderTemplate, overrides: dict | None) -> dict:
    names = {spec["name"] for spec in template.fields_schema}
    return {k: str(v).strip() for k, v in (overrides or {}).items() if k in names and v is not None}


# --- drafting and sending -------------------------------------------------------------------


def _require_editor(actor: User, case: Case) -> None:
    if not can_edit_case(user=actor, case=case):
        raise ServiceError({"case": _("Department specialists cannot draft orders.")})


@transaction.atomic
def order_draft(
    *,
    actor: User,
    case: Case,
    template_code: str,
    product: Product | None = None,
    overrides: dict | None = None,
    send: bool = False,
    now: datetime | None = None,
) -> Order:
    """Draft an order on a case from a template, with fields from the client card.

    The document (PDF) is rendered and stored with its hash at once: this is exactly what
    the client will read and sign. With `send` it goes to the client for signature.
    """
    _require_editor(actor, case)
    if not case.is_open:
        raise ServiceError({"case": _("The case is finished; reopen it to draft an order.")})
    template = OrderTemplate.objects.filter(code=template_code, is_active=True).first()
    if template is None:
        raise ServiceError({"template": _("Choose an order template.")})
    client = case.client
    if product is None:
        products = order_products(template=template, client=client)
        product = products[0] if products else None
    if product is not None and (
        product.client_id != client.pk or product.kind not in (template.product_kinds or [])
    ):
        raise ServiceError({"product": _("Choose one of this client's suitable products.")})
    if product is None and template.product_kinds:
        raise ServiceError({"product": _("The client has no product this order applies to.")})
    if product is not None and product.status == ProductStatus.CLOSED:
        raise ServiceError({"product": _("This product is already closed.")})
    now = now or timezone.now()
    fields = order_fields_prefill(
        template=template, client=client, product=product, today=timezone.localdate(now)
    )
    fields.update(_editable(template, overrides))
    fields = _validate(template, fields)
    order = Order.objects.create(
        client=client,
        case=case,
        template=template,
        product=product,
        fields=fields,
        title=template.title,
        text=order_text_render(template=template, fields=fields),
        drafted_by=actor,
        drafted_at=now,
        updated_at=now,
    )
    document = document_store(
        order=order, kind=DocumentKind.ORDER, title=order.title, content=_order_pdf(order), now=now
    )
    order.document = document
    order.save(update_fields=["document"])
    _event(order, OrderEventKind.DRAFTED, now, actor=actor, detail=template.name)
    _case_event(case, actor, "order", f"{order.reference}: {template.name}", now)
    audit_record(actor=actor, action="order.draft", via="workspace", client_id=client.pk, obj=order)
    if send:
        order_send_for_signature(actor=actor, order=order, now=now)
    return order


def _notify_client(order: Order, key: str, subject: str, email_body: str, sms: str) -> None:
    from otklik.notifications.services import notify

    for channel, kind, body in (
        ("email", ChannelKind.EMAIL, email_body),
        ("sms", ChannelKind.PHONE, sms),
    ):
        address = _client_address(order.client, kind)
        if address:
            notify(
                key=f"{key}:{channel}",
                channel=channel,
                address=address,
                subject=subject if channel == "email" else "",
                body=body,
                client=order.client,
                case=order.case,
                payload={"kind": "order", "order_id": order.pk},
            )


@transaction.atomic
def order_send_for_signature(*, actor: User, order: Order, now: datetime | None = None) -> Order:
    """Send a draft to the client: it appears in the portal; e-mail and SMS with a link."""
    _require_editor(actor, order.case)
    now = now or timezone.now()
    changed = Order.objects.filter(pk=order.pk, status=OrderStatus.DRAFT).update(
        status=OrderStatus.SENT_FOR_SIGNATURE, sent_by=actor, sent_at=now, updated_at=now
    )
    if changed != 1:
        raise ConflictError({"order": _("Only a draft can be sent for signature.")})
    order.refresh_from_db()
    _event(order, OrderEventKind.SENT, now, actor=actor)
    _case_event(order.case, actor, "order_sent", order.reference, now)
    link = portal_order_url(order)
    client = order.client
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Order %(ref)s is waiting for your signature") % {"ref": order.reference}
        email_body = _(
            "%(name)s, hello!\n\nAs agreed, we have prepared the order «%(title)s» (%(ref)s). "
            "Read it and sign it with a one-time code in the personal cabinet:\n%(link)s\n\n"
            "Everything else happens automatically; you will see each step there."
        ) % {
            "name": client.greeting_name,
            "title": order.title,
            "ref": order.reference,
            "link": link,
        }
        sms = _("Order %(ref)s is waiting for your signature in the personal cabinet: %(link)s") % {
            "ref": order.reference,
            "link": link,
        }
    _notify_client(order, f"order-sent:{order.pk}", subject, email_body, sms)
    return order


@transaction.atomic
def order_cancel(*, actor: User, order: Order, now: datetime | None = None) -> Order:
    """Withdraw an order the client has not signed yet."""
    _require_editor(actor, order.case)
    now = now or timezone.now()
    changed = Order.objects.filter(
        pk=order.pk, status__in=[OrderStatus.DRAFT, OrderStatus.SENT_FOR_SIGNATURE]
    ).update(status=OrderStatus.CANCELLED, finished_at=now, updated_at=now)
    if changed != 1:
        raise ConflictError({"order": _("A signed order cannot be cancelled.")})
    order.refresh_from_db()
    OrderSigningCode.objects.filter(order=order, used_at__isnull=True).update(expires_at=now)
    _event(order, OrderEventKind.CANCELLED, now, actor=actor)
    _case_event(order.case, actor, "order_cancelled", order.reference, now)
    return order


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
    over_order = _attempts.hit("code-order", str(order.pk)) > CODE_REQUESTS_PER_ORDER
    over_ip = _attempts.hit("code-ip", ip or "-") > CODE_REQUESTS_PER_IP
    if over_order or over_ip:
        raise Throttled(
            {"code": _("Too many codes requested. Try again in %(m)d minutes.") % {"m": 15}}
        )
    channel, address = "sms", _client_address(client, ChannelKind.PHONE)
    if not address:
        channel, address = "email", _client_address(client, ChannelKind.EMAIL)
    if not address:
        raise ServiceError({"code": _("We have no phone or e-mail to send the code to.")})
    now = now or timezone.now()
    with transaction.atomic():
        OrderSigningCode.objects.filter(
            order=order, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
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
        )
        _event(order, OrderEventKind.CODE_SENT, now, by_client=True, detail=channel, ip=_ip(ip))
    return SigningChallenge(
        code_id=row.pk,
        channel=channel,
        address_hint=row.address_hint,
        demo_code=code if show_codes_enabled() else None,
    )


def _refuse(order: Order, row: OrderSigningCode | None, ip: str, message: str, now) -> None:
    _attempts.hit("wrong-code-ip", ip or "-")
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
    if _attempts.peek("wrong-code-ip", ip or "-") >= WRONG_CODES_PER_IP:
        raise Throttled(
            {"code": _("Too many wrong codes. Try again in %(m)d minutes.") % {"m": 15}}
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
                executor=spec["executor"],
                next_attempt_at=now,
            )
            for index, spec in enumerate(order.template.steps, start=1)
        ]
    )


# --- the workflow -----------------------------------------------------------------------------

DUE_STATUSES = (StepStatus.PENDING, StepStatus.FAILED, StepStatus.WAITING, StepStatus.RUNNING)
HANDED_OFF = "handed_off"


def kick(order_id: int) -> None:
    """Ask the worker to advance the workflow now (the periodic scan does it anyway)."""
    from otklik.orders.tasks import advance_order

    try:
        advance_order.enqueue(order_id)
    except Exception:
        log.warning("could not enqueue order %s; the scan will advance it", order_id, exc_info=True)


def _lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "ORDERS_STEP_LEASE_SECONDS", 300))


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Wait before the next attempt: base × 4^(attempts-1), capped, plus ≤ 10 % jitter."""
    base = getattr(settings, "ORDERS_STEP_BACKOFF_SECONDS", 30) * 4 ** max(attempts - 1, 0)
    seconds = min(base, 6 * 3600)
    return timedelta(seconds=seconds + (rng or random).uniform(0, 0.1) * seconds)


def _max_attempts() -> int:
    return getattr(settings, "ORDERS_STEP_MAX_ATTEMPTS", 4)


def _claim(step: OrderStep, now: datetime) -> bool:
    lease_end = now + _lease()
    changed = OrderStep.objects.filter(
        pk=step.pk, status__in=DUE_STATUSES, next_attempt_at__lte=now
    ).update(
        status=StepStatus.RUNNING,
        locked_until=lease_end,
        next_attempt_at=lease_end,
        attempts=F("attempts") + 1,
    )
    return changed == 1


def _pause_for_tests(step: OrderStep) -> None:
    raw = os.environ.get(PAUSE_ENV, "")
    code, _sep, seconds = raw.partition(":")
    if code and code == step.code:
        log.warning("test hook: pausing %s s inside step %s", seconds, step)
        time.sleep(float(seconds or 30))


def workflow_advance(order_id: int, *, now: datetime | None = None, max_steps: int = 20) -> list:
    """Run the order's due steps in order until one must wait; return [(seq, outcome)]."""
    ran = []
    for _i in range(max_steps):
        at = now or timezone.now()
        step = (
            OrderStep.objects.filter(order_id=order_id)
            .exclude(status=StepStatus.DONE)
            .order_by("seq")
            .first()
        )
        if step is None:
            _order_complete(order_id, at)
            break
        previous = step.status
        if previous == StepStatus.HANDED_OFF or not _claim(step, at):
            break
        step.refresh_from_db()
        order = Order.objects.select_related("case", "client", "product").get(pk=order_id)
        if order.status == OrderStatus.SIGNED:
            Order.objects.filter(pk=order.pk, status=OrderStatus.SIGNED).update(
                status=OrderStatus.IN_PROGRESS, updated_at=at
            )
        if step.executor == "handoff":
            outcome = steps.Outcome(HANDED_OFF, error=_("This step is done by a person."))
        else:
            outcome = steps.run(step, order, at)
        if outcome.status == steps.DONE:
            _pause_for_tests(step)
        status = _finish(step, order, outcome, previous, at)
        ran.append((step.seq, status))
        if status != steps.DONE:
            break
    return ran


def _finish(step, order, outcome, previous: str, now: datetime) -> str:
    ours = OrderStep.objects.filter(pk=step.pk, status=StepStatus.RUNNING, attempts=step.attempts)
    if outcome.status == steps.DONE:
        try:
            with transaction.atomic():
                if (
                    ours.update(
                        status=StepStatus.DONE,
                        result=outcome.result,
                        finished_at=now,
                        locked_until=None,
                        next_attempt_at=None,
                        last_error="",
                    )
                    != 1
                ):
                    return "lost"  # our lease ended and another runner took the step
                if outcome.apply is not None:
                    outcome.apply()
                _event(order, OrderEventKind.STEP_DONE, now, step=step, detail=step.name)
                _tell_staff(
                    order,
                    _("Order %(ref)s: «%(step)s» done")
                    % {"ref": order.reference, "step": step.name},
                    "order.step",
                )
        except Exception as exc:
            log.exception("finishing step %s failed", step)
            outcome = steps.Outcome(steps.FAILED, error=f"{type(exc).__name__}: {exc}"[:500])
        else:
            return steps.DONE
    if outcome.status == steps.WAITING:
        recheck = getattr(settings, "ORDERS_WAIT_RECHECK_SECONDS", 60)
        ours.update(
            status=StepStatus.WAITING,
            attempts=F("attempts") - 1,  # waiting is not a failed attempt
            result=outcome.result,
            locked_until=None,
            next_attempt_at=now + timedelta(seconds=recheck),
        )
        if previous != StepStatus.WAITING:
            _event(order, OrderEventKind.STEP_WAITING, now, step=step, detail=step.name)
        return steps.WAITING
    if outcome.status == HANDED_OFF or step.attempts >= _max_attempts():
        with transaction.atomic():
            if (
                ours.update(
                    status=StepStatus.HANDED_OFF,
                    last_error=outcome.error[:500],
                    locked_until=None,
                    next_attempt_at=None,
                )
                == 1
            ):
                _hand_off(step, order, outcome.error, now)
        return HANDED_OFF
    ours.update(
        status=StepStatus.FAILED,
        last_error=outcome.error[:500],
        locked_until=None,
        next_attempt_at=now + backoff_delay(step.attempts),
    )
    _event(
        order,
        OrderEventKind.STEP_FAILED,
        now,
        step=step,
        detail=f"{step.name}: {outcome.error}",
    )
    return steps.FAILED


def _hand_off(step: OrderStep, order: Order, error: str, now: datetime) -> None:
    """Give the step to the back office as a handoff on the case; the owner keeps control."""
    from otklik.handoffs.services import handoff_send

    code = getattr(settings, "ORDERS_HANDOFF_DEPARTMENT", "back_office")
    department, _created = Department.objects.get_or_create(
        code=code, defaults={"name": "Бэк-офис"}
    )
    with translation.override(settings.LANGUAGE_CODE):
        question = _(
            "Order %(ref)s «%(title)s», step %(seq)d «%(step)s» was not done automatically "
            "(attempts: %(attempts)d; last error: %(error)s). Please do it by hand and mark "
            "the step done on the case page."
        ) % {
            "ref": order.reference,
            "title": order.title,
            "seq": step.seq,
            "step": step.name,
            "attempts": step.attempts,
            "error": error or "—",
        }
    actor = order.drafted_by or order.case.owner
    detail = department.name
    try:
        if actor is None:
            raise ServiceError({"case": "no one to send the handoff"})
        handoff = handoff_send(
            actor=actor, case=order.case, department=department, question=question, now=now
        )
        OrderStep.objects.filter(pk=step.pk).update(
            result={**step.result, "handoff_id": handoff.pk}
        )
    except ServiceError as exc:
        detail = f"{department.name}: {' '.join(exc.messages)}"
        log.warning("order %s step %s: handoff refused: %s", order.pk, step.seq, detail)
    _event(order, OrderEventKind.STEP_HANDED_OFF, now, step=step, detail=detail)
    _case_event(order.case, None, "order_step_handed_off", f"{order.reference}: {step.name}", now)
    _tell_staff(
        order,
        _("Order %(ref)s: «%(step)s» needs a person") % {"ref": order.reference, "step": step.name},
        "order.step",
    )


def _order_complete(order_id: int, now: datetime) -> None:
    changed = Order.objects.filter(
        pk=order_id, status__in=[OrderStatus.SIGNED, OrderStatus.IN_PROGRESS]
    ).update(status=OrderStatus.COMPLETED, finished_at=now, updated_at=now)
    if changed != 1:
        return
    order = Order.objects.select_related("case", "client").get(pk=order_id)
    _event(order, OrderEventKind.COMPLETED, now)
    _case_event(order.case, None, "order_completed", order.reference, now)
    _tell_staff(
        order,
        _("Order %(ref)s is completed") % {"ref": order.reference},
        "order.completed",
    )


def workflow_scan(now: datetime | None = None, *, limit: int = 200) -> int:
    """The periodic scan: advance orders with a due step (retry, lease ended, recheck)."""
    now = now or timezone.now()
    order_ids = set(
        OrderStep.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now).values_list(
            "order_id", flat=True
        )[:limit]
    )
    for order_id in sorted(order_ids):
        try:
            workflow_advance(order_id, now=now)
        except Exception:
            log.exception("advancing order %s failed", order_id)
    return len(order_ids)


# --- step effects (called by executors) -----------------------------------------------------


def closure_notice_issue(*, order: Order, now: datetime) -> OrderDocument:
    """The notice of the ИИС closure for the tax office, with the open and close dates."""
    existing = OrderDocument.objects.filter(order=order, kind=DocumentKind.CLOSURE_NOTICE).first()
    if existing is not None:
        return existing
    fields = order.fields
    closed_on = None
    close_step = order.steps.filter(code="close_contract", status=StepStatus.DONE).first()
    if close_step and close_step.result.get("closed_on"):
        closed_on = date.fromisoformat(close_step.result["closed_on"])
    product = order.product
    if closed_on is None and product is not None:
        closed_on = product.closed_on
    closed_on = closed_on or timezone.localdate(now)
    opened_on = product.opened_on if product is not None else None
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Notice of the closure of an individual investment account")
        facts = [
            (_("Client"), fields.get("client_full_name", "")),
            (_("Date of birth"), fields.get("client_birth_date", "")),
            (_("Contract"), fields.get("contract_number", "")),
            (_("Provider"), fields.get("provider", "")),
            (_("Account opened"), _day(opened_on) or fields.get("contract_open_date", "")),
            (_("Account closed"), _day(closed_on)),
            (_("Date of the notice"), _day(timezone.localdate(now))),
            (
                _("On the basis of"),
                _("order %(ref)s signed %(date)s")
                % {
                    "ref": order.reference,
                    "date": _day(timezone.localdate(order.signed_at)) if order.signed_at else "",
                },
            ),
        ]
        text = _(
            "We hereby notify that the individual investment account under contract "
            "%(contract)s, opened on %(opened)s, was closed on %(closed)s. The notice is "
            "issued for submission to the tax office; information about the closure of the "
            "account is also sent to the tax office by the provider."
        ) % {
            "contract": fields.get("contract_number", ""),
            "opened": _day(opened_on) or fields.get("contract_open_date", ""),
            "closed": _day(closed_on),
        }
        frozen = [u for u in fields.get("fund_units", []) if u.get("frozen")]
        if frozen:
            text += "\n\n" + _(
                "The value of the blocked fund units stays on the contract until they are "
                "unblocked and will then be paid out to the client's bank account %(account)s."
            ) % {"account": fields.get("bank_account_number", "")}
        content = pdf.render_document(
            title=title,
            subtitle=_subtitle(order, timezone.localdate(now)),
            facts=facts,
            text=text,
        )
    return document_store(
        order=order, kind=DocumentKind.CLOSURE_NOTICE, title=title, content=content, now=now
    )


def closure_notice_announce(*, order: Order, document: OrderDocument, now: datetime) -> None:
    """Tell the client the notice is in the personal cabinet (once per order)."""
    _case_event(order.case, None, "order_closure_notice", order.reference, now)
    link = portal_order_url(order)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your ИИС is closed: the notice for the tax office is ready")
        email_body = _(
            "%(name)s, hello!\n\nThe individual investment account %(contract)s is closed. "
            "The notice with the dates of opening and closing for the tax office is in the "
            "personal cabinet:\n%(link)s"
        ) % {
            "name": order.client.greeting_name,
            "contract": order.fields.get("contract_number", ""),
            "link": link,
        }
        sms = _("The ИИС is closed; the notice for the tax office is in your cabinet: %(link)s") % {
            "link": link
        }
    _notify_client(order, f"order-notice:{order.pk}", subject, email_body, sms)


def tax_notice_record(*, order: Order, now: datetime) -> None:
    """Record that the tax office was notified of the closure."""
    _case_event(order.case, None, "order_tax_notice", order.reference, now)


def card_terms_record(*, order: Order, now: datetime) -> None:
    _case_event(
        order.case,
        None,
        "order_card_terms",
        f"{order.reference}: {order.fields.get('individual_terms', '')}",
        now,
    )


# --- people acting on the workflow ------------------------------------------------------------


def _order_step_for_staff(actor: User, step: OrderStep) -> Order:
    order = step.order
    _require_editor(actor, order.case)
    return order


@transaction.atomic
def order_step_retry(*, actor: User, step: OrderStep, now: datetime | None = None) -> OrderStep:
    """Try a handed-off or failed step again now, with a fresh set of attempts."""
    order = _order_step_for_staff(actor, step)
    now = now or timezone.now()
    changed = OrderStep.objects.filter(
        pk=step.pk, status__in=[StepStatus.HANDED_OFF, StepStatus.FAILED]
    ).update(status=StepStatus.PENDING, attempts=0, next_attempt_at=now, locked_until=None)
    if changed != 1:
        raise ConflictError({"step": _("Only a failed or handed-off step can be retried.")})
    _event(order, OrderEventKind.STEP_RETRIED, now, actor=actor, step=step, detail=step.name)
    audit_record(
        actor=actor,
        action="order.step_retry",
        via="workspace",
        client_id=order.client_id,
        obj=order,
        detail=f"step {step.seq}",
    )
    transaction.on_commit(lambda: kick(order.pk))
    step.refresh_from_db()
    return step


@transaction.atomic
def order_step_resolve(
    *, actor: User, step: OrderStep, note: str = "", now: datetime | None = None
) -> OrderStep:
    """A person did a handed-off step by hand: mark it done and go on."""
    order = _order_step_for_staff(actor, step)
    now = now or timezone.now()
    note = (note or "").strip()[:300]
    changed = OrderStep.objects.filter(pk=step.pk, status=StepStatus.HANDED_OFF).update(
        status=StepStatus.DONE,
        finished_at=now,
        result={**step.result, "done_by": actor.pk, "note": note},
    )
    if changed != 1:
        raise ConflictError({"step": _("Only a handed-off step can be marked done.")})
    _event(order, OrderEventKind.STEP_RESOLVED, now, actor=actor, step=step, detail=note)
    audit_record(
        actor=actor,
        action="order.step_resolve",
        via="workspace",
        client_id=order.client_id,
        obj=order,
        detail=f"step {step.seq}",
    )
    transaction.on_commit(lambda: kick(order.pk))
    step.refresh_from_db()
    return step


@transaction.atomic
def fund_units_unfreeze(*, actor: User | None, product: Product, now: datetime | None = None):
    """The fund units held on `product` (an ИИС) are unblocked; waiting orders go on.

    In production the back office reports this; the demo lets a senior operator do it.
    """
    now = now or timezone.now()
    units = list(product.children.select_for_update().filter(kind=ProductKind.FUND_UNITS))
    for unit in units:
        if (unit.details or {}).get("frozen"):
            unit.details = {**unit.details, "frozen": False}
            unit.status = ProductStatus.ACTIVE
            unit.save(update_fields=["details", "status"])
            unit.restrictions.filter(kind="sanctions_freeze", lifted_at__isnull=True).update(
                lifted_at=now, lifted_by=actor
            )
    waiting = (
        Order.objects.filter(product=product, steps__status=StepStatus.WAITING)
        .select_related("case")
        .distinct()
    )
    for order in waiting:
        OrderStep.objects.filter(order=order, status=StepStatus.WAITING).update(next_attempt_at=now)
        _event(order, OrderEventKind.UNFROZEN, now, actor=actor, detail=product.name)
        order_id = order.pk
        transaction.on_commit(lambda pk=order_id: kick(pk))
    return units


UNFREEZE_ROLES = (Role.SENIOR_OPERATOR, Role.SUPERVISOR, Role.ADMIN)


def order_assets_unfreeze(*, actor: User, order: Order, now: datetime | None = None) -> None:
    """Demo of the back office's report: the order's fund units are unblocked."""
    if actor.role not in UNFREEZE_ROLES or order.product is None:
        raise ServiceError(
            {"order": _("Only a senior operator or a supervisor can mark assets unblocked.")}
        )
    fund_units_unfreeze(actor=actor, product=order.product, now=now)
    audit_record(
        actor=actor, action="order.unfreeze", via="workspace", client_id=order.client_id, obj=order
    )
