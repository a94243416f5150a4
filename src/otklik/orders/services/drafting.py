"""Orders drafted from the client card, previewed, sent to the client for signature or cancelled."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.template import Context
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otklik.accounts.models import User
from otklik.audit.services import audit_record
from otklik.cases.models import Case
from otklik.cases.selectors import can_edit_case
from otklik.clients.models import (
    ChannelKind,
    Client,
    Product,
    ProductKind,
    ProductStatus,
)
from otklik.clients.product_details import FUND_TYPE_LABELS
from otklik.clients.selectors import client_product_list
from otklik.common.errors import ConflictError, ServiceError
from otklik.orders.models import (
    DocumentKind,
    Order,
    OrderEventKind,
    OrderSigningCode,
    OrderStatus,
    OrderTemplate,
)
from otklik.orders.services.common import (
    MAX_FIELD,
    _case_event,
    _client_address,
    _day,
    _engine,
    _event,
    _order_pdf,
    document_store,
    portal_order_url,
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


def _open_products(client: Client, kinds) -> list[Product]:
    """The client's open products of these kinds by id, from the list the page shares."""
    kinds = set(kinds)
    products = client_product_list(client=client)
    return sorted(
        (p for p in products if p.kind in kinds and p.status != ProductStatus.CLOSED),
        key=lambda p: p.pk,
    )


def _payout_account(client: Client) -> Product | None:
    accounts = _open_products(client, [ProductKind.BANK_ACCOUNT])
    return accounts[0] if accounts else None


def order_products(*, template: OrderTemplate, client: Client) -> list[Product]:
    """The client's products an order of this template may be about (open ones first)."""
    return _open_products(client, template.product_kinds or [])


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
        units = [
            p
            for p in client_product_list(client=client)
            if p.parent_id == product.pk and p.kind == ProductKind.FUND_UNITS
        ]
        for unit in sorted(units, key=lambda p: p.pk):
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
