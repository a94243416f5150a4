"""Background tasks of the notifications app: thin wrappers around delivery."""

from django.tasks import task

from otklik.notifications import delivery


@task
def deliver_outbox(outbox_id: int) -> str:
    """Deliver one outbox row now (the periodic scan is the safety net)."""
    return delivery.deliver(outbox_id)
