"""A `django.tasks` backend on RQ (Redis Queue), for workers on several machines.

Django 6.1 ships only the immediate and dummy backends; django-tasks-rq is written
against the `django_tasks` backport rather than `django.tasks`, so this is a small
backend of our own on plain RQ. A job stores the task's dotted path and its JSON
arguments; `run_job` resolves the path in the worker and calls the task function.
Results are not kept (`supports_get_result = False`): our tasks record their outcome
in the database themselves.
"""

from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.db import close_old_connections
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import Task, TaskResult, TaskResultStatus
from django.tasks.exceptions import InvalidTask
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.functional import cached_property
from django.utils.json import normalize_json
from django.utils.module_loading import import_string

from otklik.common.request_context import current_request_id, request_id_var

# Finished jobs need not linger in Redis; failed ones stay a week for inspection.
RESULT_TTL_SECONDS = 600
FAILURE_TTL_SECONDS = 7 * 24 * 3600


class RQBackend(BaseTaskBackend):
    """Enqueue `django.tasks` tasks on RQ queues named `<PREFIX>.<queue name>`."""

    supports_defer = False  # would need RQ's scheduler process; our retries use the outbox
    supports_async_task = False
    supports_get_result = False
    supports_priority = False

    def __init__(self, alias, params):
        super().__init__(alias, params)
        self.url = self.options.get("URL") or ""
        self.prefix = self.options.get("PREFIX") or "otklik"

    @cached_property
    def connection(self):
        from redis import Redis

        return Redis.from_url(self.url)

    def rq_queue(self, queue_name: str):
        from rq import Queue

        return Queue(f"{self.prefix}.{queue_name}", connection=self.connection)

    def rq_queues(self) -> list:
        return [self.rq_queue(name) for name in sorted(self.queues)]

    def validate_task(self, task):
        super().validate_task(task)
        if task.takes_context:
            raise InvalidTask("RQBackend does not pass a task context.")

    def enqueue(self, task: Task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=normalize_json(list(args)),
            kwargs=normalize_json(dict(kwargs)),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        queue = self.rq_queue(task.queue_name)
        options = {
            "args": (task.module_path, result.args, result.kwargs),
            "job_id": result.id,
            "result_ttl": RESULT_TTL_SECONDS,
            "failure_ttl": FAILURE_TTL_SECONDS,
            # The request that started the job, for its log lines (run_job sets it).
            "meta": {"request_id": current_request_id()},
        }
        queue.enqueue(run_job, **options)
        object.__setattr__(result, "enqueued_at", timezone.now())
        task_enqueued.send(type(self), task_result=result)
        return result

    def check(self, **kwargs):
        yield from super().check(**kwargs)
        if not self.url:
            from django.core.checks import Error

            yield Error("RQBackend needs OPTIONS['URL'] (REDIS_URL).", id="jobs.E001")


def run_job(module_path: str, args: list, kwargs: dict[str, Any]) -> Any:
    """Executed by the RQ worker: resolve the task by its path and call it."""
    close_old_connections()
    from rq import get_current_job

    job = get_current_job()
    token = request_id_var.set((job.meta.get("request_id") or "") if job else "")
    try:
        task = import_string(module_path)
        if not isinstance(task, Task):
            raise SuspiciousOperation(f"{module_path} is not a task")
        return normalize_json(task.call(*args, **kwargs))
    finally:
        request_id_var.reset(token)
        close_old_connections()
