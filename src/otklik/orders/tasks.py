"""Background tasks of orders: thin wrappers around the workflow runner."""

from django.tasks import task

from otklik.orders import services


@task
def advance_order(order_id: int) -> int:
    """Run the order's due workflow steps now (the periodic scan is the safety net)."""
    return len(services.workflow_advance(order_id))
