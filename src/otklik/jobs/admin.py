"""The database queue in the admin, in Russian: the queue package's own admin ("Task Results",
field names in English) is replaced by one over a proxy with translated names."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from otklik.jobs.models import TaskResult

# field → its label; the admin shows these columns and, read-only, these fields.
LABELS = {
    "id": _("ID"),
    "task_name": _("job"),
    "status": _("status"),
    "enqueued_at": _("queued"),
    "started_at": _("started"),
    "finished_at": _("finished"),
    "priority": _("priority"),
    "queue_name": _("queue"),
    "backend_name": _("backend"),
    "run_after": _("not before"),
    "worker_ids": _("workers"),
    "args_kwargs": _("arguments"),
    "return_value": _("result"),
    "exception_class_path": _("error"),
    "traceback": _("traceback"),
}


def _column(field: str):
    def show(obj):
        value = getattr(obj, field)
        return "—" if value in (None, "", [], {}) else value

    show.__name__ = f"col_{field}"
    return admin.display(description=LABELS[field], ordering=field)(show)


if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


@admin.register(TaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    list_display = tuple(
        _column(f)
        for f in (
            "id",
            "task_name",
            "status",
            "enqueued_at",
            "started_at",
            "finished_at",
            "priority",
            "queue_name",
        )
    )
    list_filter = ("status", "priority", "queue_name")

    def get_readonly_fields(self, request, obj=None):
        return [_column(f) for f in LABELS]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)
