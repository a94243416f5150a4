"""The story library: exemplary cases and lessons, kept only as a redacted copy."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class StoryKind(models.TextChoices):
    EXEMPLARY = "exemplary", _("Exemplary")
    LESSON = "lesson", _("Lesson")


class StoryStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for review")
    PUBLISHED = "published", pgettext_lazy("story", "Published")
    WITHDRAWN = "withdrawn", pgettext_lazy("story", "Withdrawn")


class Story(models.Model):
    """A case or chat written up for training.

    `body` is built from the source and redacted before it is first saved: the original
    text is never stored here, so neither the reviewer nor a reader can see it.
    """

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=StoryKind.choices)
    note = models.TextField(_("why it is worth reading"))
    body = models.TextField(_("story"))
    topic = models.ForeignKey(
        "cases.Topic",
        verbose_name=_("topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    product_kind = models.CharField(_("product"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=StoryStatus.choices, default=StoryStatus.DRAFT
    )
    hide_amounts = models.BooleanField(_("amounts hidden"), default=False)
    redactions = models.JSONField(_("redactions"), default=dict, blank=True, editable=False)
    # Where it came from, for the supervisors' bookkeeping only; never rendered as content.
    source_case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("source case"),
    )
    source_conversation = models.ForeignKey(
        "chat.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("source chat"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("story written by"),
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    terms = models.TextField(_("search terms"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("story")
        verbose_name_plural = _("stories")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class StoryAssignment(models.Model):
    """A story an operator is asked to read; done when they acknowledge it."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="story_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at"]
        constraints = [
            models.UniqueConstraint(fields=["story", "user"], name="story_assignment_once")
        ]

    def __str__(self) -> str:
        return f"{self.story_id} → {self.user_id}"
