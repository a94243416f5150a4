"""Executors: how an allowed action (or an order's workflow step) gets done.

Contract for other apps (orders' workflow steps use it):

    from otklik.actions.executors import execute_step, step_status, StepResult

    result = execute_step(
        run_key="order-17-step-2",          # idempotency key, unique per logical step
        executor="webhook",                 # or "handoff:<department code>"
        payload={"operation": "open_deposit", ...},  # "operation" required for webhooks;
                                            # "question" required for handoffs
        case=case,                          # optional for webhooks, required for handoffs
        actor=user,                         # handoffs: who sends (default: case owner)
        on_result="otklik.orders.services.order_step_finished",  # optional dotted path
    )
    result.status   # "pending" (webhook queued), "done", "failed", "handed_off"
    result.result   # back office answer, e.g. {"status": "done", "reference": "BO-…"}

* Call it inside your transaction: the webhook is queued on commit; a rollback queues
  nothing. Calling again with the same `run_key` does nothing new and returns the stored
  state (`step_status(run_key)` reads it without side effects).
* A webhook is a signed POST to settings.OTKLIK_BACKOFFICE_URL (HMAC-SHA256 of
  "<timestamp>.<body>" in `X-Otklik-Signature`, `X-Otklik-Timestamp`, `Idempotency-Key`
  = run_key), with a timeout, retried with exponential backoff by the worker (task
  `deliver_call` right after commit; the periodic scan `deliver_due` picks up retries)
  until OTKLIK_BACKOFFICE_MAX_ATTEMPTS.
* When the call is final (done, refused, or given up) `on_result` is called once, in a
  transaction, as `func(call=<BackofficeCall>, step=<StepResult>)`.
"""

import json
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from otklik.actions.models import FINAL_CALL_STATUSES, BackofficeCall, CallStatus
from otklik.common.errors import ServiceError
from otklik.notifications.notifiers import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

logger = logging.getLogger(__name__)

DUE_STATUSES = (CallStatus.PENDING, CallStatus.FAILED, CallStatus.SENDING)
HANDOFF_OPERATION = "handoff"


@dataclass(frozen=True)
class StepResult:
    status: str  # "pending", "done", "failed", "handed_off"
    result: dict = field(default_factory=dict)


def step_result(call: BackofficeCall) -> StepResult:
    if call.operation == HANDOFF_OPERATION:
        return StepResult("handed_off", dict(call.response))
    if call.status == CallStatus.DONE:
        return StepResult("done", dict(call.response))
    if call.status in (CallStatus.REFUSED, CallStatus.DEAD):
        return StepResult("failed", {**call.response, "error": call.last_error})
    return StepResult("pending", {"attempts": call.attempts})


def step_status(run_key: str) -> StepResult | None:
    """The state of a step started with `execute_step`, or None if there is none."""
    call = BackofficeCall.objects.filter(key=run_key).first()
    return step_result(call) if call is not None else None


def execute_step(
    *,
    run_key: str,
    executor: str,
    payload: dict,
    case=None,
    actor=None,
    on_result: str = "",
    now: datetime | None = None,
) -> StepResult:
    """Run one step through an executor, at most once per `run_key` (see module doc)."""
    now = now or timezone.now()
    if not run_key or len(run_key) > 200:
        raise ServiceError({"run_key": _("A step needs a key of at most 200 characters.")})
    existing = BackofficeCall.objects.filter(key=run_key).first()
    if existing is not None:
        return step_result(existing)
    if executor == "webhook":
        call = webhook_queue(key=run_key, payload=payload, case=case, on_result=on_result, now=now)
        return step_result(call)
    if executor.startswith("handoff:"):
        return _handoff_step(
            run_key=run_key,
            department_code=executor.split(":", 1)[1],
            payload=payload,
            case=case,
            actor=actor,
            now=now,
        )
    raise ServiceError({"executor": _("Unknown executor «%(e)s».") % {"e": executor}})


def webhook_queue(
    *, key: str, payload: dict, case=None, on_result: str = "", now: datetime | None = None
) -> BackofficeCall:
    """Store a back-office call and queue it after the commit; the same key is stored once."""
    now = now or timezone.now()
    operation = str(payload.get("operation") or "")
    if not operation:
        raise ServiceError({"operation": _("A back-office call needs an operation.")})
    try:
        with transaction.atomic():
            call = BackofficeCall.objects.create(
                key=key,
                operation=operation[:60],
                payload=payload,
                case=case,
                on_result=on_result,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        return BackofficeCall.objects.get(key=key)
    transaction.on_commit(lambda: enqueue_call(call.pk))
    return call


@transaction.atomic
def _handoff_step(
    *, run_key: str, department_code: str, payload: dict, case, actor, now: datetime
) -> StepResult:
    from otklik.accounts.models import Department
    from otklik.handoffs.services import handoff_send

    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise ServiceError({"executor": _("No department «%(d)s».") % {"d": department_code}})
    if case is None:
        raise ServiceError({"case": _("A handoff needs a case.")})
    sender = actor or case.owner
    if sender is None:
        raise ServiceError({"case": _("The case has no owner to send the handoff.")})
    handoff = handoff_send(
        actor=sender,
        case=case,
        department=department,
        question=payload.get("question", ""),
        now=now,
    )
    call = BackofficeCall.objects.create(
        key=run_key,
        operation=HANDOFF_OPERATION,
        payload=payload,
        case=case,
        status=CallStatus.DONE,
        response={"handoff_id": handoff.pk, "department": department.code},
        next_attempt_at=now,
        created_at=now,
        finished_at=now,
    )
    return step_result(call)


# --- delivery ----------------------------------------------------------------------------


class CallError(Exception):
    """The back office failed or could not be reached; the call is retried."""


class CallRefused(Exception):
    """The back office answered that it will not do this; the call is final."""

    def __init__(self, answer: dict):
        super().__init__(answer.get("reason") or "refused")
        self.answer = answer


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call_body(call: BackofficeCall) -> bytes:
    data = {"key": call.key, "operation": call.operation, "payload": call.payload}
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()


def post_signed(url: str, body: bytes, *, key: str, secret: str, timeout: float) -> dict:
    """POST a signed JSON body; return the JSON answer or raise CallError / CallRefused."""
    if not url.startswith(("http://", "https://")):
        raise CallError("back-office URL must be http(s)")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        IDEMPOTENCY_HEADER: key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        "User-Agent": "Otklik-Actions/1",
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked above)
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        raw = exc.read(65536) if exc.fp else b""
        if exc.code == 422:
            raise CallRefused(_json(raw)) from None
        raise CallError(f"back office answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise CallError(f"back office unreachable: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise CallError(f"back office answered HTTP {status}")
    answer = _json(raw)
    if answer.get("status") == "refused":
        raise CallRefused(answer)
    if answer.get("status") != "done":
        raise CallError(f"unexpected answer: {str(answer)[:200]}")
    return answer


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw.decode() or "{}")
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def enqueue_call(call_id: int) -> None:
    """Hand a call to the job system now; never raises (the periodic scan is the safety net)."""
    from otklik.actions.tasks import deliver_call

    try:
        deliver_call.enqueue(call_id)
    except Exception:
        logger.warning("Could not enqueue back-office call %s; the scan will send it", call_id)


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Wait before attempt `attempts + 1`: base × 4^(attempts-1), capped, plus ≤25% jitter."""
    base = settings.OTKLIK_BACKOFFICE_BACKOFF_SECONDS * 4 ** max(attempts - 1, 0)
    seconds = min(base, settings.OTKLIK_BACKOFFICE_BACKOFF_MAX_SECONDS)
    return timedelta(seconds=seconds + (rng or random).uniform(0, 0.25) * seconds)


def _claim(call_id: int, now: datetime) -> bool:
    lease_end = now + timedelta(seconds=settings.OTKLIK_BACKOFFICE_TIMEOUT * 3 + 30)
    changed = BackofficeCall.objects.filter(
        pk=call_id, status__in=DUE_STATUSES, next_attempt_at__lte=now
    ).update(
        status=CallStatus.SENDING,
        locked_until=lease_end,
        next_attempt_at=lease_end,
        attempts=F("attempts") + 1,
    )
    return changed == 1


def deliver(call_id: int, *, now: datetime | None = None) -> str:
    """Send one call if it is due. Returns the call's new status, or "skipped"."""
    now = now or timezone.now()
    if not _claim(call_id, now):
        return "skipped"
    call = BackofficeCall.objects.get(pk=call_id)
    ours = BackofficeCall.objects.filter(
        pk=call_id, status=CallStatus.SENDING, attempts=call.attempts
    )
    try:
        answer = post_signed(
            settings.OTKLIK_BACKOFFICE_URL,
            call_body(call),
            key=call.key,
            secret=settings.OTKLIK_BACKOFFICE_SECRET,
            timeout=settings.OTKLIK_BACKOFFICE_TIMEOUT,
        )
    except CallRefused as exc:
        return _final(call, ours, CallStatus.REFUSED, exc.answer, str(exc), now)
    except CallError as exc:
        error = str(exc)[:2000]
        if call.attempts >= settings.OTKLIK_BACKOFFICE_MAX_ATTEMPTS:
            return _final(call, ours, CallStatus.DEAD, {}, error, now)
        ours.update(
            status=CallStatus.FAILED,
            locked_until=None,
            next_attempt_at=now + backoff_delay(call.attempts),
            last_error=error,
        )
        logger.info("Back-office call %s attempt %d failed: %s", call.key, call.attempts, error)
        return CallStatus.FAILED
    return _final(call, ours, CallStatus.DONE, answer, "", now)


def _final(call, ours, status: str, answer: dict, error: str, now: datetime) -> str:
    with transaction.atomic():
        if (
            ours.update(
                status=status, response=answer, last_error=error, locked_until=None, finished_at=now
            )
            != 1
        ):
            return "skipped"  # our lease ran out and another attempt owns the call now
        call.refresh_from_db()
        if call.on_result:
            import_string(call.on_result)(call=call, step=step_result(call))
    return status


def deliver_due(now: datetime | None = None, *, batch_size: int = 100) -> dict[str, int]:
    """The periodic scan: send every due call (first attempts lost in the queue, retries)."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    ids = list(
        BackofficeCall.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    for call_id in ids:
        outcome = deliver(call_id, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def call_is_final(call: BackofficeCall) -> bool:
    return call.status in FINAL_CALL_STATUSES
