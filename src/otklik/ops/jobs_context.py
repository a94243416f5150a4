"""The request id travels with the jobs a request starts.

When a job is enqueued its id is logged with the request id of the moment (one line ties
them together whatever the backend); the RQ backend also stores the request id in the
job (see otklik.jobs.backends) and the worker sets it while the job runs, so the job's
own log lines carry it.
"""

import logging

from django.dispatch import receiver
from django.tasks.signals import task_enqueued, task_finished, task_started

from otklik.common.request_context import current_request_id

logger = logging.getLogger("otklik.jobs.trace")


@receiver(task_enqueued)
def _log_enqueued(sender, task_result, **kwargs) -> None:
    # From a request: INFO, the line that ties the job to it; from the scans: DEBUG.
    level = logging.INFO if current_request_id() else logging.DEBUG
    logger.log(
        level,
        "job enqueued %s",
        task_result.task.name,
        extra={"job_id": task_result.id, "task": task_result.task.module_path},
    )


@receiver(task_started)
def _log_started(sender, task_result, **kwargs) -> None:
    logger.debug("job started", extra={"job_id": task_result.id})


@receiver(task_finished)
def _log_finished(sender, task_result, **kwargs) -> None:
    level = logging.WARNING if str(task_result.status) == "FAILED" else logging.DEBUG
    logger.log(
        level,
        "job finished %s",
        task_result.status,
        extra={"job_id": task_result.id, "task": task_result.task.module_path},
    )
