"""Idempotency keys are honoured for a week, then the hourly scan forgets them."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from otklik.api.models import IdempotencyKey
from otklik.api.services import idempotency_keys_prune
from otklik.cases.models import Case
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def intake(client) -> dict:
    return {"client_id": client.pk, "subject": "Не пришли деньги", "channel": "phone"}


def age(key: str, days: float) -> None:
    IdempotencyKey.objects.filter(key=key).update(created_at=timezone.now() - timedelta(days=days))


def test_old_keys_are_deleted_oldest_first_and_recent_ones_kept(cast, api):
    alice = api(cast.alice)
    client = ClientFactory()
    for key in ("k-old-1", "k-old-2", "k-old-3", "k-new"):
        assert alice.post("/api/cases", intake(client), key=key).status_code == 201
    for key in ("k-old-1", "k-old-2", "k-old-3"):
        age(key, settings.OTKLIK_IDEMPOTENCY_KEY_DAYS + 1)
    age("k-new", settings.OTKLIK_IDEMPOTENCY_KEY_DAYS - 1)

    assert idempotency_keys_prune(batch=2) == 3  # several bounded rounds
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k-new"]
    assert idempotency_keys_prune() == 0
    assert Case.objects.count() == 4  # the cases themselves stay


def test_a_key_within_the_week_still_replays_and_an_expired_one_opens_anew(cast, api):
    alice = api(cast.alice)
    client = ClientFactory()
    alice.post("/api/cases", intake(client), key="gateway-42")
    age("gateway-42", settings.OTKLIK_IDEMPOTENCY_KEY_DAYS - 1)
    idempotency_keys_prune()
    assert alice.post("/api/cases", intake(client), key="gateway-42")["Idempotent-Replayed"]
    age("gateway-42", settings.OTKLIK_IDEMPOTENCY_KEY_DAYS + 1)
    idempotency_keys_prune()
    again = alice.post("/api/cases", intake(client), key="gateway-42")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Case.objects.count() == 2


def test_prune_is_one_of_the_workers_periodic_scans():
    paths = [path for path, _every in settings.OTKLIK_PERIODIC_SCANS]
    assert "otklik.api.services.idempotency_keys_prune" in paths
