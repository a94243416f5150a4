"""Retention bookkeeping: the log of runs and which client records were anonymised.

Nothing here holds personal data: a run stores counts per data class, and an anonymised
client is marked by its id only.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RunTrigger(models.TextChoices):
    COMMAND = "command", _("Management command")
    SCAN = "scan", _("Scheduled scan")


class RetentionRun(models.Model):
    """One pass of the retention job: what it did (or would do, when dry) per data class.

    Written at the start and completed at the end, so a run that was killed midway stays
    visible with `finished_at` empty; the next run simply picks up what is still due.
    """

    trigger = models.CharField(_("trigger"), max_length=16, choices=RunTrigger.choices)
    dry_run = models.BooleanField(_("dry run"), default=False)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    complete = models.BooleanField(
        _("complete"),
        default=False,
        help_text=_("False when the run stopped at its batch or time limit, or was killed."),
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_trigger_display()}"


class AnonymisedClient(models.Model):
    """A client record whose personal data has been removed; the row keeps its id only.

    The audit log still points at the id (who read it while it was personal data). One
    row is the placeholder that anonymised cases, calls and ratings are re-linked to, so
    they keep their statistics without pointing at a person.
    """

    client = models.OneToOneField(
        "clients.Client", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    anonymised_at = models.DateTimeField(_("anonymised"))
    is_placeholder = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("anonymised client")
        verbose_name_plural = _("anonymised clients")
        constraints = [
            models.UniqueConstraint(
                fields=["is_placeholder"],
                condition=Q(is_placeholder=True),
                name="retention_one_placeholder",
            )
        ]

    def __str__(self) -> str:
        return str(self.client_id)
