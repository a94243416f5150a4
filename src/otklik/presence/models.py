"""Drafts: an unsent answer kept on the server per member of staff and case."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DraftKind(models.TextChoices):
    MESSAGE = "message", _("Note or reply")
    PORTAL = "portal", _("Answer in the personal cabinet")


class Draft(models.Model):
    """What one member of staff has typed and not sent yet on one case (one per form kind).

    Saved as they type, so it survives a reload, a closed tab or a lost connection;
    deleted when the answer is sent.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=DraftKind.choices)
    body = models.TextField(_("text"))
    visibility = models.CharField(_("visibility"), max_length=8, blank=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")
        constraints = [
            models.UniqueConstraint(fields=["user", "case", "kind"], name="draft_one_per_form")
        ]

    def __str__(self) -> str:
        return self.body[:60]
