"""The demo back office does what signed orders ask of it, not only operator actions."""

import json
import time

import pytest

from otklik.actions import backoffice
from otklik.actions.models import BackofficeOperation
from otklik.orders.steps import OPERATIONS
from otklik.orders.steps import sign as order_sign


@pytest.mark.parametrize("operation", sorted(OPERATIONS.values()))
def test_order_operations_are_done_once(db, operation):
    from django.conf import settings

    body = json.dumps({"operation": operation, "key": f"k-{operation}", "payload": {}}).encode()
    timestamp = str(int(time.time()))
    signature = order_sign(settings.OTKLIK_BACKOFFICE_SECRET, timestamp, body)
    status, answer = backoffice.receive(
        body=body, timestamp=timestamp, signature=signature, key=f"k-{operation}"
    )
    assert status == 200 and answer["status"] == "done", answer
    status, again = backoffice.receive(
        body=body, timestamp=timestamp, signature=signature, key=f"k-{operation}"
    )
    assert again["replayed"] is True and again["reference"] == answer["reference"]
    assert BackofficeOperation.objects.filter(operation=operation).count() == 1
