"""Executors of order workflow steps.

Each executor takes a claimed step and returns an `Outcome`: done (with a result and an
optional `apply` that runs in the same transaction that marks the step done), waiting,
or failed. Effects outside the database are idempotent by the step's `run_key`
(`order-<id>-step-<seq>`): the back office receives it as `Idempotency-Key` and acts on
each key once, so running a step again after a crash repeats nothing. Effects inside the
database run in `apply`, which commits together with "done" or not at all.

The back office: a signed JSON POST to settings.OTKLIK_BACKOFFICE_URL (the same back
office and signature as `otklik.actions`), or, with OTKLIK_ORDERS_BACK_OFFICE=simulated,
an in-process stand-in that answers at once (demos without a back office).
"""

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from otklik.clients.models import ProductKind, ProductStatus
from otklik.notifications.notifiers import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

DONE, WAITING, FAILED = "done", "waiting", "failed"

# Back-office operation of each webhook step.
OPERATIONS = {
    "close_contract": "contract.close",
    "payout": "payout.transfer",
    "withdraw": "funds.withdraw",
    "card_reissue": "card.reissue",
}


@dataclass
class Outcome:
    status: str  # done | waiting | failed
    result: dict = field(default_factory=dict)
    error: str = ""
    apply: Callable[[], None] | None = None


class BackOfficeError(Exception):
    """The back office refused, failed or could not be reached; the step is retried."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def back_office_mode() -> str:
    return getattr(settings, "ORDERS_BACK_OFFICE", "webhook")


def back_office_call(*, run_key: str, operation: str, payload: dict) -> dict:
    """Ask the back office to do `operation` once per `run_key`; return its answer."""
    if back_office_mode() == "simulated":
        reference = hashlib.sha256(run_key.encode()).hexdigest()[:10].upper()
        return {"status": "done", "reference": f"BO-{reference}", "simulated": True}
    url = settings.OTKLIK_BACKOFFICE_URL
    if not url.startswith(("http://", "https://")):
        raise BackOfficeError("the back-office URL must be http(s)")
    body = json.dumps(
        {"operation": operation, "key": run_key, "payload": payload},
        ensure_ascii=False,
        sort_keys=True,
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        IDEMPOTENCY_HEADER: run_key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(settings.OTKLIK_BACKOFFICE_SECRET, timestamp, body),
        "User-Agent": "Otklik-Orders/1",
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked above)
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=settings.OTKLIK_BACKOFFICE_TIMEOUT) as response:
            raw = response.read(65536)
            status = response.status
    except urllib.error.HTTPError as exc:
        raise BackOfficeError(f"back office answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise BackOfficeError(f"back office unreachable: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise BackOfficeError(f"back office answered HTTP {status}")
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {}
    return answer if isinstance(answer, dict) else {}


# --- what each step does -------------------------------------------------------------------


def _webhook_payload(step, order) -> dict:
    fields = order.fields
    payload = {
        "order_id": order.pk,
        "order": order.reference,
        "client_id": order.client_id,
        "contract_number": fields.get("contract_number", ""),
    }
    if step.code in ("payout", "withdraw"):
        payload["bank_account_number"] = fields.get("bank_account_number", "")
        payload["bank_name"] = fields.get("bank_name", "")
        if fields.get("amount"):
            payload["amount"] = fields["amount"]
        if step.code == "payout" and fields.get("fund_units"):
            payload["source"] = "frozen_fund_units_value"
    if step.code == "card_reissue":
        payload["card_product_id"] = order.product_id
        payload["individual_terms"] = fields.get("individual_terms", "")
        payload["delivery"] = fields.get("delivery", "")
    return payload


def run_webhook(step, order, now: datetime) -> Outcome:
    operation = OPERATIONS.get(step.code, step.code)
    try:
        answer = back_office_call(
            run_key=step.run_key, operation=operation, payload=_webhook_payload(step, order)
        )
    except BackOfficeError as exc:
        return Outcome(FAILED, error=str(exc))
    result = {"operation": operation, "back_office": answer}
    apply = None
    if step.code == "close_contract" and order.product_id:
        closed_on = timezone.localdate(now)
        result["closed_on"] = closed_on.isoformat()
        product_id = order.product_id

        def apply() -> None:
            from otklik.clients.models import Product

            Product.objects.filter(pk=product_id).exclude(status=ProductStatus.CLOSED).update(
                status=ProductStatus.CLOSED, closed_on=closed_on
            )

    return Outcome(DONE, result=result, apply=apply)


def frozen_units(order) -> list:
    """The fund units held on the order's product that are still frozen."""
    if order.product_id is None:
        return []
    return [
        unit
        for unit in order.product.children.filter(kind=ProductKind.FUND_UNITS)
        if (unit.details or {}).get("frozen")
    ]


def run_wait_until_unfrozen(step, order, now: datetime) -> Outcome:
    frozen = frozen_units(order)
    if frozen:
        return Outcome(WAITING, result={"frozen": [unit.name for unit in frozen]})
    return Outcome(DONE, result={"unfrozen_checked_at": now.isoformat()})


def run_document(step, order, now: datetime) -> Outcome:
    from otklik.orders import services

    document = services.closure_notice_issue(order=order, now=now)
    return Outcome(
        DONE,
        result={"document_id": document.pk, "sha256": document.sha256},
        apply=lambda: services.closure_notice_announce(order=order, document=document, now=now),
    )


def run_local(step, order, now: datetime) -> Outcome:
    from otklik.orders import services

    if step.code == "record_tax_notice":
        return Outcome(
            DONE,
            result={"tax_office_notified_on": timezone.localdate(now).isoformat()},
            apply=lambda: services.tax_notice_record(order=order, now=now),
        )
    if step.code == "record_card_terms":
        return Outcome(
            DONE,
            result={"terms": order.fields.get("individual_terms", "")[:300]},
            apply=lambda: services.card_terms_record(order=order, now=now),
        )
    return Outcome(DONE, result={"recorded_at": now.isoformat()})


EXECUTORS: dict[str, Callable[..., Outcome]] = {
    "webhook": run_webhook,
    "document": run_document,
    "local": run_local,
    "wait_until_unfrozen": run_wait_until_unfrozen,
}


def run(step, order, now: datetime) -> Outcome:
    executor = EXECUTORS.get(step.executor)
    if executor is None:
        return Outcome(FAILED, error=f"unknown executor {step.executor!r}")
    try:
        return executor(step, order, now)
    except Exception as exc:  # an executor bug must not kill the runner; it is retried
        return Outcome(FAILED, error=f"{type(exc).__name__}: {exc}"[:500])
