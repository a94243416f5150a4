"""Queueing notifications. Delivery (with retries and backoff) is the worker's job."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError
from otklik.notifications import sealing
from otklik.notifications.models import NotificationChannel, Outbox, OutboxStatus

DEFAULT_SECRET_TTL = timedelta(minutes=15)


def notify(
    *,
    key: str,
    channel: str,
    address: str,
    body: str,
    subject: str = "",
    user=None,
    client=None,
    case=None,
    payload: dict | None = None,
    secret: str = "",
    secret_ttl: timedelta | None = None,
) -> Outbox:
    """Write a notification to the outbox inside the caller's transaction.

    Call it from a service, inside the same `transaction.atomic` as the change: if the
    change rolls back, so does the notification. A second call with the same `key`
    returns the stored row instead of queueing a duplicate.

    `secret` (a one-time code in `body`): the stored body and subject show it masked; the
    full text is kept only encrypted until sent or until `secret_ttl` is over (a code
    that is no longer valid is not worth sending), then erased (notifications.sealing).
    """
    if channel not in NotificationChannel.values:
        raise ServiceError({"channel": _("Unknown notification channel.")})
    if not address:
        raise ServiceError({"address": _("The recipient has no address on this channel.")})
    now = timezone.now()
    sealed, secret_expires_at = "", None
    if secret:
        sealed = sealing.seal(body, secret, now=now)
        secret_expires_at = now + (secret_ttl or DEFAULT_SECRET_TTL)
        body, subject = sealing.mask(body, secret), sealing.mask(subject, secret)
    try:
        with transaction.atomic():
            row = Outbox.objects.create(
                key=key[:200],
                channel=channel,
                address=address[:300],
                user=user,
                client=client,
                case=case,
                subject=subject[:300],
                body=body,
                sealed_body=sealed,
                secret_expires_at=secret_expires_at,
                payload=payload or {},
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        return Outbox.objects.get(key=key[:200])
    transaction.on_commit(lambda: _kick_delivery(row.pk))
    return row


def _kick_delivery(outbox_id: int) -> None:
    """Ask the worker to deliver now; the periodic scan delivers anyway if this is lost."""
    from otklik.notifications import delivery

    delivery.enqueue_delivery(outbox_id)


def outbox_retry_now(*, outbox_ids, now=None) -> int:
    """Make failed or dead rows due at once ("retry now" in the admin).

    A dead row gets a fresh set of attempts. Sent rows and rows being sent are left
    alone, so this can never cause a second send. Returns how many rows were revived.
    """
    now = now or timezone.now()
    ids = list(
        Outbox.objects.filter(
            pk__in=list(outbox_ids), status__in=[OutboxStatus.FAILED, OutboxStatus.DEAD]
        ).values_list("pk", flat=True)
    )
    with transaction.atomic():
        Outbox.objects.filter(pk__in=ids, status=OutboxStatus.DEAD).update(attempts=0)
        changed = Outbox.objects.filter(
            pk__in=ids, status__in=[OutboxStatus.FAILED, OutboxStatus.DEAD]
        ).update(status=OutboxStatus.PENDING, next_attempt_at=now, locked_until=None)
        for outbox_id in ids:
            transaction.on_commit(lambda pk=outbox_id: _kick_delivery(pk))
    return changed
