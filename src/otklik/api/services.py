"""Housekeeping of the API's own rows."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from otklik.api.models import IdempotencyKey


def idempotency_keys_prune(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Forget idempotency keys older than OTKLIK_IDEMPOTENCY_KEY_DAYS (periodic scan).

    A retry comes within minutes or hours; keeping every key forever would grow the table
    by one row per intake. Rows are taken oldest first by primary key (ids grow with
    time), so the scan needs no index of its own and each call does bounded work.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.OTKLIK_IDEMPOTENCY_KEY_DAYS)
    deleted = 0
    while True:
        oldest = list(IdempotencyKey.objects.order_by("pk").values_list("pk", "created_at")[:batch])
        expired = [pk for pk, created in oldest if created < cutoff]
        if not expired:
            return deleted
        deleted += IdempotencyKey.objects.filter(pk__in=expired).delete()[0]
        if len(expired) < len(oldest):  # reached keys still honoured
            return deleted
