"""Housekeeping scans for the job queue."""

from datetime import timedelta

from django.utils import timezone

# Finished rows of the database queue are kept this long (for the admin), then deleted.
KEEP_FINISHED = timedelta(days=2)


def prune_finished_jobs(now=None) -> int:
    """Delete finished task results of the database backend older than two days."""
    from django.tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task_backends["default"], DatabaseBackend):
        return 0

    now = now or timezone.now()
    deleted, _ = (
        DBTaskResult.objects.finished().filter(finished_at__lt=now - KEEP_FINISHED).delete()
    )
    return deleted
