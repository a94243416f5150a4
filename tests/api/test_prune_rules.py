"""api.services.idempotency_keys_prune at its edges: the cutoff itself, the clock it is
given, and the work one call does."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from otklik.api.models import IdempotencyKey
from otklik.api.services import idempotency_keys_prune

pytestmark = pytest.mark.django_db


def _keys(user, ages: dict[str, timedelta], now):
    for key, age in ages.items():
        row = IdempotencyKey.objects.create(
            user=user,
            key=key,
            endpoint="/api/cases",
            request_hash="h",
            response_status=201,
            response_body={},
        )
        IdempotencyKey.objects.filter(pk=row.pk).update(created_at=now - age)


def test_a_key_exactly_at_the_cutoff_is_still_kept(cast):
    now = timezone.now()
    week = timedelta(days=settings.OTKLIK_IDEMPOTENCY_KEY_DAYS)
    _keys(cast.alice, {"older": week + timedelta(seconds=1), "at": week}, now)
    assert idempotency_keys_prune(now=now) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["at"]


def test_the_cutoff_counts_from_the_time_given(cast):
    now = timezone.now()
    _keys(cast.alice, {"a": timedelta(0), "b": timedelta(days=1)}, now)
    later = now + timedelta(days=settings.OTKLIK_IDEMPOTENCY_KEY_DAYS + 2)
    assert idempotency_keys_prune(now=now) == 0
    assert idempotency_keys_prune(now=later) == 2
    assert not IdempotencyKey.objects.exists()


def test_a_call_stops_at_the_first_key_still_honoured(cast):
    now = timezone.now()
    old = timedelta(days=settings.OTKLIK_IDEMPOTENCY_KEY_DAYS + 1)
    _keys(cast.alice, {"o1": old, "o2": old, "new": timedelta(0)}, now)
    with CaptureQueriesContext(connection) as queries:
        assert idempotency_keys_prune(now=now, batch=10) == 2
    selects = [
        q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert len(selects) == 1  # one look at the oldest keys, no second round
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
