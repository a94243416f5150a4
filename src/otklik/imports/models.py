"""What an import remembers: which outside record became which of our rows."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportedRecord(models.Model):
    """One record of another system (a CSV line's external id, a Zammad ticket…) and the
    row it became here. Written in the same transaction as that row, so a re-run skips what
    is already in (idempotent) and an interrupted import resumes where it stopped."""

    source = models.CharField(_("source"), max_length=40)
    kind = models.CharField(_("kind"), max_length=40)
    external_id = models.CharField(_("external id"), max_length=200)
    object_id = models.BigIntegerField(_("our id"))
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_id"], name="imports_record_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.kind}:{self.external_id} → {self.object_id}"
