"""Writes about clients, their contacts and products."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.clients.models import (
    ChannelKind,
    Client,
    ClientSearchTerm,
    ContactPoint,
    Product,
    ProductKind,
    ProductStatus,
    Reachability,
    Restriction,
)
from otklik.clients.product_details import validate_details
from otklik.common.errors import NotAllowed, ServiceError
from otklik.common.phones import phone_digits
from otklik.common.text import normalize


def client_search_terms(client: Client) -> set[str]:
    """The keys under which a client can be found (see ClientSearchTerm)."""
    last, first, middle = (
        normalize(x) for x in (client.last_name, client.first_name, client.patronymic)
    )
    terms = {t for t in (last, first, middle) if t}
    terms.add(normalize(f"{last} {first} {middle}"))
    terms.add(normalize(f"{first} {middle}"))
    terms.add(normalize(f"{first} {last}"))
    for contact in client.contacts.all():
        if contact.kind == ChannelKind.PHONE:
            digits = phone_digits(contact.value)
            if digits:
                terms.add(digits)
        elif contact.kind == ChannelKind.EMAIL:
            terms.add(normalize(contact.value))
    for product in client.products.all():
        if product.number:
            terms.add(normalize(product.number).replace(" ", ""))
        pan = (product.details or {}).get("pan") if product.kind == ProductKind.CARD else None
        if pan:
            terms.add(pan)
        msisdn = (product.details or {}).get("msisdn")
        if msisdn:
            terms.add(msisdn)
    return {t[:200] for t in terms if t}


def client_reindex(*, client: Client) -> None:
    ClientSearchTerm.objects.filter(client=client).delete()
    ClientSearchTerm.objects.bulk_create(
        [ClientSearchTerm(client=client, term=t) for t in sorted(client_search_terms(client))]
    )


def _require_registrar(actor) -> None:
    """`actor` None is the system itself (a chat visitor, the demo); staff need the role."""
    from otklik.clients.selectors import can_register_clients

    if actor is not None and not can_register_clients(user=actor):
        raise NotAllowed(
            {"client": _("Department specialists do not register clients or products.")}
        )


def _require(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ServiceError({field: _("This field is required.")})
    return value


@transaction.atomic
def client_create(
    *,
    last_name: str,
    first_name: str,
    patronymic: str = "",
    birth_date: date | None = None,
    segment: str = "mass",
    address_as: str = "",
    preferences: str = "",
    personal_manager=None,
    phones: list[str] | tuple[str, ...] = (),
    emails: list[str] | tuple[str, ...] = (),
    actor=None,
) -> Client:
    """Create a client with their phones and e-mails, searchable at once."""
    _require_registrar(actor)
    client = Client(
        last_name=_require(last_name, "last_name"),
        first_name=_require(first_name, "first_name"),
        patronymic=(patronymic or "").strip(),
        birth_date=birth_date,
        segment=segment,
        address_as=address_as,
        preferences=preferences,
        personal_manager=personal_manager,
    )
    client.full_clean()
    client.save()
    for index, phone in enumerate(phones):
        digits = phone_digits(phone)
        if len(digits) != 10:
            raise ServiceError(
                {"phones": _("Not a Russian phone number: %(value)s") % {"value": phone}}
            )
        ContactPoint.objects.create(
            client=client, kind=ChannelKind.PHONE, value=f"+7{digits}", is_primary=index == 0
        )
    for email in emails:
        contact = ContactPoint(client=client, kind=ChannelKind.EMAIL, value=email.strip())
        if "@" not in contact.value:
            raise ServiceError({"emails": _("Not an e-mail address: %(value)s") % {"value": email}})
        contact.save()
    client_reindex(client=client)
    return client


@transaction.atomic
def contact_point_set_reachability(
    *, contact: ContactPoint, reachability: str, note: str = ""
) -> ContactPoint:
    """Record whether the client can be reached on this contact right now, and why not."""
    if reachability not in Reachability.values:
        raise ServiceError({"reachability": _("Unknown reachability value.")})
    contact.reachability = reachability
    contact.reachability_note = note.strip()[:300]
    contact.save(update_fields=["reachability", "reachability_note", "updated_at"])
    return contact


@transaction.atomic
def product_create(
    *,
    client: Client,
    kind: str,
    name: str,
    number: str = "",
    details: dict | None = None,
    parent: Product | None = None,
    provider: str = "",
    status: str = "active",
    opened_on: date | None = None,
    actor=None,
) -> Product:
    """Add a product after validating its typed details; the number becomes searchable."""
    _require_registrar(actor)
    if kind not in ProductKind.values:
        raise ServiceError({"kind": _("Unknown product kind «%(kind)s».") % {"kind": kind}})
    if parent is not None and parent.client_id != client.pk:
        raise ServiceError({"parent": _("The parent product belongs to another client.")})
    product = Product(
        client=client,
        kind=kind,
        name=_require(name, "name"),
        number=number.strip(),
        details=validate_details(kind, details),
        parent=parent,
        provider=provider,
        status=status,
        opened_on=opened_on,
    )
    product.full_clean(exclude=["details"])
    product.save()
    client_reindex(client=client)
    return product


@transaction.atomic
def restriction_place(
    *, product: Product, kind: str, reason: str = "", placed_at=None
) -> Restriction:
    restriction = Restriction(
        product=product, kind=kind, reason=reason, placed_at=placed_at or timezone.now()
    )
    restriction.full_clean()
    restriction.save()
    return restriction


@transaction.atomic
def restriction_lift(*, restriction: Restriction, actor=None, now=None) -> bool:
    """Mark a restriction lifted (once); unblock the product when no block is left.

    Returns False if it was already lifted. Who may lift what is decided before this is
    called (the actions policy); this only records the fact.
    """
    now = now or timezone.now()
    changed = Restriction.objects.filter(pk=restriction.pk, lifted_at__isnull=True).update(
        lifted_at=now, lifted_by=actor
    )
    if not changed:
        return False
    restriction.lifted_at, restriction.lifted_by = now, actor
    product = restriction.product
    if (
        product.status == ProductStatus.BLOCKED
        and not product.restrictions.filter(lifted_at__isnull=True).exists()
    ):
        Product.objects.filter(pk=product.pk).update(status=ProductStatus.ACTIVE)
        product.status = ProductStatus.ACTIVE
    return True
