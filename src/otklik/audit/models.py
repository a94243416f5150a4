"""Access log for personal data (152-ФЗ): who looked at which client's data, when and how."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditRecord(models.Model):
    """One access to or change of a client's personal data. Append-only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=64)
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("client"),
    )
    object_type = models.CharField(max_length=40, blank=True, verbose_name=_("object type"))
    object_id = models.CharField(max_length=40, blank=True, verbose_name=_("object id"))
    via = models.CharField(_("via"), max_length=16, help_text=_("workspace, api, admin"))
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip"))
    detail = models.CharField(max_length=300, blank=True, verbose_name=_("detail"))
    # The time of the access; spooled read audits (see spool.py) bring it with them.
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["client", "created_at"], name="audit_client_time"),
            # The access review filters by member of staff too.
            models.Index(fields=["actor", "created_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class AuditSpoolBatch(models.Model):
    """A spool file already moved into `AuditRecord`, so a retried flush adds nothing twice."""

    name = models.CharField(max_length=200, unique=True)
    records = models.PositiveIntegerField(default=0)
    flushed_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.name
