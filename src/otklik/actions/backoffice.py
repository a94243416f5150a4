"""The demo back office: a real HTTP endpoint that does the operators' actions in the demo.

It stands in for the bank's or operator's systems so the flows run end to end on one
machine: it checks the HMAC signature and the timestamp window, does each operation once
per `Idempotency-Key` (a repeat gets the first answer), writes it to its ledger
(`BackofficeOperation`) and answers `{"status": "done", "reference": "BO-…"}`. A
`BackofficeFailure` row makes it fail the next N requests (for demos of retries, tests).
"""

import hmac
import json
import secrets
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from otklik.actions.inputs import INPUTS
from otklik.actions.models import BackofficeFailure, BackofficeOperation
from otklik.notifications.notifiers import sign

# Amounts above this are refused as the real back office would (manual approval needed).
REFUND_CEILING = 50_000


def _answer(http_status: int, **body) -> tuple[int, dict]:
    return http_status, body


def _verify(body: bytes, timestamp: str, signature: str) -> str:
    """Empty if the request is authentic, else why not."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return "missing or malformed timestamp"
    if abs(time.time() - sent) > settings.OTKLIK_BACKOFFICE_WINDOW_SECONDS:
        return "timestamp outside the allowed window"
    expected = sign(settings.OTKLIK_BACKOFFICE_SECRET, timestamp, body)
    if not signature or not hmac.compare_digest(expected, signature):
        return "bad signature"
    return ""


def _injected_failure(operation: str) -> int | None:
    """Consume one planned failure for this operation, if any; return its HTTP status."""
    for failure in BackofficeFailure.objects.filter(
        Q(operation="") | Q(operation=operation), remaining__gt=0
    ).order_by("pk"):
        taken = BackofficeFailure.objects.filter(pk=failure.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if taken:
            return failure.status_code
    return None


def _known_operations() -> set[str]:
    """Operator actions plus the operations signed orders ask for (closing a contract...)."""
    from otklik.orders.steps import OPERATIONS as ORDER_OPERATIONS

    return set(INPUTS) | set(ORDER_OPERATIONS.values())


def _refusal(operation: str, payload: dict) -> str:
    if operation not in _known_operations():
        return f"unknown operation {operation}"
    if operation == "refund_charge":
        try:
            amount = float((payload.get("input") or {}).get("amount", 0))
        except (TypeError, ValueError):
            return "bad amount"
        if amount > REFUND_CEILING:
            return "refunds above 50 000 ₽ need manual approval"
    return ""


def receive(*, body: bytes, timestamp: str, signature: str, key: str) -> tuple[int, dict]:
    """Handle one webhook; returns (HTTP status, JSON answer)."""
    problem = _verify(body, timestamp, signature)
    if problem:
        return _answer(401, status="error", reason=problem)
    if not key:
        return _answer(400, status="error", reason="Idempotency-Key header required")
    try:
        data = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError):
        return _answer(400, status="error", reason="body is not JSON")
    operation = str(data.get("operation", ""))[:60]
    done = BackofficeOperation.objects.filter(key=key).first()
    if done is not None:
        return _answer(200, status="done", reference=done.reference, replayed=True)
    failure = _injected_failure(operation)
    if failure is not None:
        return _answer(failure, status="error", reason="planned failure (demo)")
    refusal = _refusal(operation, data.get("payload") or {})
    if refusal:
        return _answer(422, status="refused", reason=refusal)
    reference = "BO-" + secrets.token_hex(4).upper()
    try:
        with transaction.atomic():
            BackofficeOperation.objects.create(
                key=key, operation=operation, payload=data.get("payload") or {}, reference=reference
            )
    except IntegrityError:  # the same key arrived twice at once: the first one did it
        done = BackofficeOperation.objects.get(key=key)
        return _answer(200, status="done", reference=done.reference, replayed=True)
    return _answer(200, status="done", reference=reference)
