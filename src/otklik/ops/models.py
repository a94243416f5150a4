"""What the operations side keeps: one heartbeat row per running worker process."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """A worker process's last sign of life and when each of its periodic scans last ran.

    Written every few seconds by the worker's own scan (`otklik.ops.heartbeat.beat`), read by
    the readiness check and the metrics of every app process (they cannot see the worker's
    memory). Rows of workers gone for a day are deleted by the next beat.
    """

    worker_id = models.CharField(_("worker"), max_length=200, unique=True)
    host = models.CharField(_("host"), max_length=200)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started"))
    seen_at = models.DateTimeField(_("last seen"), db_index=True)
    # {scan path: unix time of its last run without an error}
    scans_ok = models.JSONField(_("scans last run"), default=dict, blank=True)
    # {scan path: consecutive failures}
    scan_failures = models.JSONField(_("scan failures"), default=dict, blank=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return self.worker_id
