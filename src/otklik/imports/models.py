"""What an import remembers: which outside record became which of our rows."""

import secrets

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
        # The case page asks «was this case imported, from where?» by our id.
        indexes = [models.Index(fields=["kind", "object_id"], name="imports_record_ours")]

    def __str__(self) -> str:
        return f"{self.source}:{self.kind}:{self.external_id} → {self.object_id}"


def imported_file_path(instance: "ImportedFile", filename: str) -> str:
    """A random stored name: the old desk's file name is kept for display only."""
    ext = filename.rpartition(".")[2].lower() if "." in filename else "bin"
    return f"imported/{instance.case_id}/{secrets.token_hex(16)}.{ext}"


class ImportedFile(models.Model):
    """A file that came with a ticket article of another desk, kept with the message it
    belonged to. It follows its case: whoever may see the case may open it."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=150)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to=imported_file_path, max_length=200)

    class Meta:
        verbose_name = _("imported file")
        verbose_name_plural = _("imported files")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
