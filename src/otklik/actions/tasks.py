"""Background tasks of the actions app: thin wrappers around the executors."""

from django.tasks import task

from otklik.actions import executors


@task
def deliver_call(call_id: int) -> str:
    """Send one back-office call now (the periodic scan retries it if this fails)."""
    return executors.deliver(call_id)
