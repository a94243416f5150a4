"""Live workspace events: stored with an id, then pushed over Channels.

A browser that reconnects asks for events "after id N", never "since time T", so it
catches up on exactly what it missed.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LiveEvent(models.Model):
    """Something a member of staff should learn about without reloading the page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_events"
    )
    kind = models.CharField(max_length=40)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(_("text"), max_length=500)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("live event")
        verbose_name_plural = _("live events")
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "id"], name="live_event_user_id")]

    def __str__(self) -> str:
        return self.text
