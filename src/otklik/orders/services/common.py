"""What the order services share: limits, errors, small helpers and the stored documents."""

import hashlib
import hmac
import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template import Engine
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from otklik.accounts.models import User
from otklik.cases.models import Case, CaseEvent, EventKind
from otklik.clients.models import (
    Client,
    ContactPoint,
)
from otklik.common.links import absolute_reverse
from otklik.common.throttle import AttemptCounter, Pacing, keyed_hash
from otklik.common.throttle import Throttled as Throttled  # shared by the signing stage
from otklik.orders import pdf
from otklik.orders.models import (
    Order,
    OrderDocument,
    OrderEvent,
    OrderStep,
)

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
THROTTLE_WINDOW_SECONDS = 15 * 60
# Code requests per order: CODE_REQUESTS_FREE at once, then 30 s, 1, 2, 4... min (at most
# 15) between them, forgotten after a quiet hour; per IP address at most
# CODE_REQUESTS_PER_IP per 15-minute window. The refusal says when to try again.
CODE_REQUESTS_FREE = 3
CODE_REQUESTS_PER_IP = 20
WRONG_CODES_PER_IP = 30
_attempts = AttemptCounter(
    prefix="orders:throttle", namespace="otklik-orders", window_seconds=THROTTLE_WINDOW_SECONDS
)
_pacing = Pacing(
    prefix="orders:pacing",
    namespace="otklik-orders",
    free=CODE_REQUESTS_FREE,
    base_seconds=30,
    max_seconds=15 * 60,
    reset_seconds=60 * 60,
)
MAX_FIELD = 500
# Test hook: "close_contract:30" makes the runner sleep 30 s after that step's effect and
# before marking it done, so a test can kill the worker mid-step.
PAUSE_ENV = "OTKLIK_ORDERS_TEST_PAUSE_IN_STEP"

_engine = Engine(autoescape=False)  # documents are plain text; HTML pages escape it


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
    return absolute_reverse("orders:portal_detail", args=[order.pk])


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
