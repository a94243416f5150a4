"""Handoffs: questions a case owner sends to a department while keeping control."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class HandoffStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("handoff", "Sent")
    IN_WORK = "in_work", _("Taken by specialist")
    QUESTION = "question", _("Question to owner")
    ANSWERED = "answered", _("Answered")
    CANCELLED = "cancelled", _("Cancelled")


class Handoff(models.Model):
    """A question to a department about a case; grants its specialists sight of that case."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="handoffs", verbose_name=_("case")
    )
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
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_handoffs",
        verbose_name=_("assignee"),
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

    @property
    def is_active(self) -> bool:
        """Still waiting for the department (sent, in work, or asking the owner)."""
        return self.status in (HandoffStatus.OPEN, HandoffStatus.IN_WORK, HandoffStatus.QUESTION)


class HandoffEventKind(models.TextChoices):
    SENT = "sent", _("Sent to department")
    TAKEN = "taken", _("Taken into work")
    QUESTION = "question", _("Question to the owner")
    REPLY = "reply", _("Owner replied")
    ANSWERED = "answered", _("Department answered")
    CANCELLED = "cancelled", _("Cancelled")


class HandoffEvent(models.Model):
    """One step of a handoff (sent, taken, question, reply, answer, cancel) with its text.

    Its id numbers the change in notification keys, so each change is notified once.
    """

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=HandoffEventKind.choices)
    text = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("handoff event")
        verbose_name_plural = _("handoff events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.handoff_id}"


def attachment_path(instance: "HandoffAttachment", filename: str) -> str:
    """Where a file is stored: a random name under handoffs/; the client's name never is."""
    import uuid

    return f"handoffs/{instance.handoff_id}/{uuid.uuid4().hex}{instance.extension}"


class HandoffAttachment(models.Model):
    """A file sent with a question or an answer; downloaded only through a checked view."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        HandoffEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size, bytes"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"))

    class Meta:
        verbose_name = _("handoff attachment")
        verbose_name_plural = _("handoff attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def extension(self) -> str:
        _stem, dot, ext = self.name.rpartition(".")
        return f".{ext.lower()}" if dot else ""


class CaseWatch(models.Model):
    """«Взять на контроль»: the user is told of every change to the case's handoffs."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="watches")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_watches"
    )
    created_at = models.DateTimeField(_("since"))

    class Meta:
        verbose_name = _("case watch")
        verbose_name_plural = _("case watches")
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="handoffs_casewatch_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.case_id}"
