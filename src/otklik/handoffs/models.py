"""Handoffs: questions a case owner sends to a department while keeping control."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HandoffStatus(models.TextChoices):
    OPEN = "open", _("Sent")
    IN_WORK = "in_work", _("Taken by specialist")
    QUESTION = "question", _("Question to owner")
    ANSWERED = "answered", _("Answered")
    CANCELLED = "cancelled", _("Cancelled")


class Handoff(models.Model):
    """A question to a department about a case; grants its specialists sight of that case."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="handoffs")
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="handoffs",
    )
    question = models.TextField(_("question"))
    status = models.CharField(
        _("status"), max_length=16, choices=HandoffStatus.choices, default=HandoffStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_handoffs",
    )
    answer = models.TextField(_("answer"), blank=True)
    created_at = models.DateTimeField(_("sent"))
    due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("handoff")
        verbose_name_plural = _("handoffs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["department", "status", "created_at"], name="handoff_dept_queue")
        ]

    def __str__(self) -> str:
        return f"{self.department}: {self.question[:50]}"
