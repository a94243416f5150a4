"""The task queue's rows as the admin shows them, in Russian (the queue's own app is English)."""

from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult


class TaskResult(DBTaskResult):
    """A background job's row in the database queue: what ran, when and how it ended."""

    class Meta:
        proxy = True
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
