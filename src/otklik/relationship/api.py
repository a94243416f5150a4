"""The desk's JSON API: the back-office feed (batch, idempotent) and a client's health."""

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from otklik.audit.services import audit_record
from otklik.relationship.feed import FeedRejected, feed_apply
from otklik.relationship.health import client_health
from otklik.relationship.selectors import can_manage_books, client_in_book

router = Router(tags=["manager desk"])

#: Rows per request: ~20 000 rows of JSON stay under Django's 2.5 MB request body limit.
API_MAX_ROWS = 20_000


class FeedRowIn(Schema):
    client_id: int
    metric: str = Field(..., max_length=40)
    period: str = Field(..., max_length=10, description="YYYY-MM (monthly) or YYYY-MM-DD")
    value: str | int | float


class FeedIn(Schema):
    batch_id: str = Field(
        ..., min_length=1, max_length=150, description="Resending a batch id changes nothing."
    )
    rows: list[FeedRowIn] = Field(
        ...,
        min_length=1,
        max_length=API_MAX_ROWS,
        description=f"At most {API_MAX_ROWS} rows a request: send a day's feed in batches.",
    )


class FeedOut(Schema):
    batch_id: str
    rows: int
    clients: int
    replayed: bool
    recomputed: int


class CriterionOut(Schema):
    criterion: str
    kind: str
    value: Decimal | None
    threshold: Decimal
    met: bool
    gap: Decimal


class HealthOut(Schema):
    client_id: int
    score: int
    fee_free: bool
    fee_shortfall: Decimal
    criteria: list[CriterionOut]


# Refusals as the rest of the API documents them (401/403/404 with a detail, 400/422 with
# the list of problems), so the schema names every status a caller can get.
ERRORS = {400: Any, 401: Any, 403: Any, 404: Any, 422: Any}


@router.post(
    "/desk/feed",
    response={200: FeedOut, **ERRORS},
    summary="Apply a batch of back-office aggregates",
)
def feed(request: HttpRequest, payload: FeedIn) -> dict:
    """All rows valid, or 422 naming each bad row by its index and nothing applied."""
    if not can_manage_books(request.user):
        raise HttpError(403, _("Only supervisors and administrators send the feed."))
    rows = [(i, row.dict()) for i, row in enumerate(payload.rows)]
    try:
        result = feed_apply(
            rows=rows, batch=f"api:{payload.batch_id}", source="api", actor=request.user
        )
    except FeedRejected as exc:
        raise NinjaValidationError(
            [
                {
                    "loc": ["body", "payload", "rows", e.line, e.field],
                    "msg": e.message,
                    "type": "invalid_row",
                }
                for e in exc.errors[:1000]
            ]
        ) from exc
    return {
        "batch_id": payload.batch_id,
        "rows": result.rows,
        "clients": result.clients,
        "replayed": result.replayed,
        "recomputed": result.recomputed,
    }


@router.get(
    "/desk/clients/{client_id}/health",
    response={200: HealthOut, **ERRORS},
    summary="A client's health",
)
def health(request: HttpRequest, client_id: int) -> dict:
    client = client_in_book(user=request.user, client_id=client_id)
    audit_record(actor=request.user, action="client.health.view", via="api", client_id=client.pk)
    result = client_health(client=client)
    if result is None:
        return {
            "client_id": client.pk,
            "score": 0,
            "fee_free": False,
            "fee_shortfall": Decimal(0),
            "criteria": [],
        }
    return {
        "client_id": client.pk,
        "score": result.score,
        "fee_free": result.fee_free,
        "fee_shortfall": result.fee_shortfall,
        "criteria": [
            {
                "criterion": r.criterion.name,
                "kind": r.criterion.kind,
                "value": r.value,
                "threshold": r.criterion.threshold,
                "met": r.met,
                "gap": r.gap,
            }
            for r in result.results
        ],
    }
