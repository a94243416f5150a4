"""Delivery of outbox rows. (Filled in by the notifications worker work; see issue 3.)"""


def enqueue_delivery(outbox_id: int) -> None:
    """Hand an outbox row to the job system for delivery."""
