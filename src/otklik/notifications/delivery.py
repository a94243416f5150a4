"""Delivery of outbox rows: claim with a lease, send, mark sent or schedule a retry.

Contract (at-least-once with an idempotency key):

* `deliver(outbox_id)` claims the row with one conditional UPDATE (due status, due time)
  that also sets a lease (`locked_until`, mirrored in `next_attempt_at`) and counts the
  attempt. Only the caller whose UPDATE changed exactly one row sends; a concurrent or
  repeated call for the same row does nothing.
* After the send the row becomes `sent` (never sent again) — but only if the claim is
  still ours (same attempt number), so a worker that outlived its lease cannot overwrite
  a newer attempt's outcome.
* A worker that dies between claim and mark-sent leaves the row `sending`; when the lease
  expires the row is due again and is re-sent with the same key. The receiver drops the
  repeat by that key (`Idempotency-Key` header, stable e-mail Message-ID).
* A message with a secret (one-time code) is sent from its sealed full text, which is
  erased as soon as the row is sent or dead or the secret's lifetime is over; a row whose
  secret expired before it could be sent is `dead`, never sent with a stale code.
* A failure is recorded in `last_error`; the next attempt waits 30 s, 2 min, 8 min, ...
  (×4, capped, with up to 25% jitter); after OUTBOX_MAX_ATTEMPTS the row is `dead`,
  visible in the admin, where "retry now" revives it.

`enqueue_delivery` is the fast path (a job right after the commit); `deliver_due` is the
periodic scan that catches everything else (lost jobs, retries, expired leases).
"""

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from otklik.notifications import sealing
from otklik.notifications.models import Outbox, OutboxStatus
from otklik.notifications.notifiers import mask_address, notifier_for

logger = logging.getLogger(__name__)

DUE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENDING)

SENT = "sent"
FAILED = "failed"
DEAD = "dead"
SKIPPED = "skipped"


def enqueue_delivery(outbox_id: int) -> None:
    """Hand an outbox row to the job system for delivery (called after the commit).

    Never raises: if the queue is unreachable the periodic scan delivers the row anyway.
    """
    from otklik.notifications.tasks import deliver_outbox

    try:
        deliver_outbox.enqueue(outbox_id)
    except Exception:
        logger.warning(
            "Could not enqueue delivery of outbox %s; the scan will send it",
            outbox_id,
            exc_info=True,
        )


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Wait before attempt `attempts + 1`: base × 4^(attempts-1), capped, plus ≤25% jitter."""
    base = settings.OUTBOX_BACKOFF_SECONDS * 4 ** max(attempts - 1, 0)
    seconds = min(base, settings.OUTBOX_BACKOFF_MAX_SECONDS)
    jitter = (rng or random).uniform(0, 0.25) * seconds
    return timedelta(seconds=seconds + jitter)


def claim(outbox_id: int, *, now: datetime) -> bool:
    """Take the row for one attempt if it is due; True only for the one caller that did."""
    lease_end = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    changed = Outbox.objects.filter(
        pk=outbox_id, status__in=DUE_STATUSES, next_attempt_at__lte=now
    ).update(
        status=OutboxStatus.SENDING,
        locked_until=lease_end,
        next_attempt_at=lease_end,
        attempts=F("attempts") + 1,
    )
    return changed == 1


def deliver(outbox_id: int, *, now: datetime | None = None) -> str:
    """Send one outbox row if it is due; returns "sent", "failed", "dead" or "skipped"."""
    now = now or timezone.now()
    if not claim(outbox_id, now=now):
        return SKIPPED
    message = Outbox.objects.get(pk=outbox_id)
    ours = Outbox.objects.filter(
        pk=outbox_id, status=OutboxStatus.SENDING, attempts=message.attempts
    )
    if message.secret_expires_at is not None:
        try:
            _unseal_into(message, now=now)
        except sealing.SealExpired:
            ours.update(
                status=OutboxStatus.DEAD,
                locked_until=None,
                sealed_body="",
                last_error="the one-time code expired before it could be sent",
            )
            logger.info("Outbox %s not sent: its one-time code expired", outbox_id)
            return DEAD
    try:
        notifier_for(message.channel).send(message)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.secret_expires_at is not None:
            error = sealing.mask(error, message.secret_text)
        if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            ours.update(
                status=OutboxStatus.DEAD, locked_until=None, last_error=error, sealed_body=""
            )
            logger.warning(
                "Outbox %s to %s is dead after %d attempts: %s",
                outbox_id,
                mask_address(message.address),
                message.attempts,
                error,
            )
            return DEAD
        ours.update(
            status=OutboxStatus.FAILED,
            locked_until=None,
            next_attempt_at=now + backoff_delay(message.attempts),
            last_error=error,
        )
        logger.info("Outbox %s attempt %d failed: %s", outbox_id, message.attempts, error)
        return FAILED
    ours.update(
        status=OutboxStatus.SENT, sent_at=now, locked_until=None, last_error="", sealed_body=""
    )
    return SENT


def _unseal_into(message: Outbox, *, now: datetime) -> None:
    """Put the full text into the in-memory row for the notifier; keep the masked one.

    The notifier sends `body` (full text); `masked_body` is what a development sink
    (mail files, console) writes instead. Raises SealExpired for a stale or erased text.
    """
    if not message.sealed_body or message.secret_expires_at <= now:
        raise sealing.SealExpired("erased or expired")
    ttl = message.secret_expires_at - message.created_at
    full, secret = sealing.unseal(message.sealed_body, ttl=ttl, now=now)
    message.masked_body = message.body
    message.body = full
    message.secret_text = secret  # error texts are masked with it


def erase_expired_secrets(now: datetime | None = None) -> int:
    """Erase sealed texts past their lifetime; unsent ones become dead (never sent late)."""
    now = now or timezone.now()
    expired = Outbox.objects.filter(secret_expires_at__lte=now).exclude(sealed_body="")
    expired.filter(status__in=DUE_STATUSES).update(
        status=OutboxStatus.DEAD,
        locked_until=None,
        last_error="the one-time code expired before it could be sent",
    )
    return expired.update(sealed_body="")


def deliver_due(
    now: datetime | None = None, *, batch_size: int = 100, max_rows: int = 1000
) -> dict[str, int]:
    """The periodic scan: deliver every due row (uses the `outbox_due` partial index)."""
    now = now or timezone.now()
    erase_expired_secrets(now)
    counts = {SENT: 0, FAILED: 0, DEAD: 0, SKIPPED: 0}
    handled = 0
    while handled < max_rows:
        ids = list(
            Outbox.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        for outbox_id in ids:
            counts[deliver(outbox_id, now=now)] += 1
        handled += len(ids)
        # Every row handled above now has a future next_attempt_at or is final, so
        # the next query sees only rows that were not in this batch.
        if len(ids) < batch_size:
            break
    return counts
