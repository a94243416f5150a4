"""Full card and account numbers: shown only to whoever may, for a stated reason, audited.

Every interface masks identifiers by default (otklik.common.masking). Some work needs the
full number (a chargeback form, a court request): a supervisor, an administrator or a
member of staff given the `clients.view_full_identifiers` permission asks for it with a
reason, and the reason lands in the personal-data access log next to who asked and when.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, User
from otklik.audit.services import audit_record
from otklik.clients.models import Client, Product, ProductKind
from otklik.common.errors import ServiceError
from otklik.common.masking import mask_account_number, mask_pan
from otklik.common.redaction import redact

PERMISSION = "clients.view_full_identifiers"
REVEAL_ACTION = "client.identifiers.reveal"
REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 250


@dataclass(frozen=True)
class ProductIdentifiers:
    """The numbers of one product, either masked or in full."""

    product_id: int
    kind: str
    name: str
    number: str
    pan: str


def can_view_full_identifiers(user: User) -> bool:
    """Supervisors and administrators by role; anyone else only with the explicit permission."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    return user.has_perm(PERMISSION)


def _identifiers(client: Client, *, full: bool) -> list[ProductIdentifiers]:
    rows = []
    for product in Product.objects.filter(client=client).order_by("kind", "id"):
        pan = (product.details or {}).get("pan", "") if product.kind == ProductKind.CARD else ""
        if not product.number and not pan:
            continue
        rows.append(
            ProductIdentifiers(
                product_id=product.pk,
                kind=product.kind,
                name=product.name,
                number=product.number if full else mask_account_number(product.number),
                pan=pan if full else mask_pan(pan),
            )
        )
    return rows


def client_identifiers_masked(*, client: Client) -> list[ProductIdentifiers]:
    return _identifiers(client, full=False)


def client_identifiers_reveal(
    *, user: User, client: Client, reason: str, via: str, request: HttpRequest | None = None
) -> list[ProductIdentifiers]:
    """The client's full card and account numbers, after checking the right and the reason.

    The caller has already fetched `client` with a visibility check. Raises PermissionDenied
    for staff without the right, ServiceError for a missing or too short reason; otherwise
    records who asked, why and through which interface, then answers.
    """
    if not can_view_full_identifiers(user):
        raise PermissionDenied(
            _(
                "Full card and account numbers are shown only to supervisors, administrators "
                "and staff given that right."
            )
        )
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN_LENGTH:
        raise ServiceError(
            {
                "reason": _("Say why you need the full numbers (at least %(n)s characters).")
                % {"n": REASON_MIN_LENGTH}
            }
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError(
            {"reason": _("Keep the reason under %(n)s characters.") % {"n": REASON_MAX_LENGTH}}
        )
    audit_record(
        actor=user,
        action=REVEAL_ACTION,
        via=via,
        client_id=client.pk,
        obj=client,
        request=request,
        detail=redact(reason),
    )
    return _identifiers(client, full=True)
