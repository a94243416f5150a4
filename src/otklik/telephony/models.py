"""Telephony (CTI): operators' extensions, calls built from the PBX's events, callbacks.

Every event the PBX posts is stored once by its id (`CallEvent.event_id`), so a retried
delivery changes nothing. A call keeps its own figures (ring, talk and hold seconds,
answered within the service-level threshold, abandoned), which is what the service level
and the handle time for calls are computed from.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OperatorExtension(models.Model):
    """Which operator sits at which extension of the PBX (screen pops go there)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.CASCADE,
        related_name="extension",
    )
    extension = models.CharField(_("extension"), max_length=20, unique=True)

    class Meta:
        verbose_name = _("operator extension")
        verbose_name_plural = _("operator extensions")
        ordering = ["extension"]

    def __str__(self) -> str:
        return f"{self.extension}: {self.user}"


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class CallStatus(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Talking")
    ON_HOLD = "on_hold", _("On hold")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")


class Call(models.Model):
    """One telephone call as the PBX reported it, and the case it was attached to."""

    call_id = models.CharField(_("call id"), max_length=100, unique=True)
    direction = models.CharField(
        _("direction"), max_length=8, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CallStatus.choices, default=CallStatus.RINGING
    )
    number = models.CharField(_("client's number"), max_length=32)
    line = models.CharField(_("line"), max_length=32, blank=True)
    extension = models.CharField(_("extension"), max_length=20, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    started_at = models.DateTimeField(_("started"), db_index=True)
    answered_at = models.DateTimeField(pgettext_lazy("call", "answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    hold_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    ring_seconds = models.PositiveIntegerField(_("ring, s"), default=0)
    talk_seconds = models.PositiveIntegerField(_("talk, s"), default=0)
    hold_seconds = models.PositiveIntegerField(_("hold, s"), default=0)
    answered_in_target = models.BooleanField(_("answered within target"), default=False)
    abandoned = models.BooleanField(_("abandoned"), default=False)
    transfers = models.PositiveSmallIntegerField(_("transfers"), default=0)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    interaction = models.OneToOneField(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="call"
    )

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["operator", "status"], name="call_operator_status"),
            models.Index(fields=["number", "started_at"], name="call_number_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.number}"


class CallEvent(models.Model):
    """One event the PBX posted, kept once by its id (retries are answered, not applied)."""

    event_id = models.CharField(max_length=100, unique=True)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    payload = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class CallbackStatus(models.TextChoices):
    OPEN = "open", _("To call back")
    CALLING = "calling", _("Calling")
    DONE = "done", _("Done")


class Callback(models.Model):
    """A missed or abandoned call to return by a time target."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="callback")
    number = models.CharField(_("number"), max_length=32)
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=CallbackStatus.choices, default=CallbackStatus.OPEN
    )
    due_at = models.DateTimeField(_("call back by"), db_index=True)
    created_at = models.DateTimeField(_("created"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"{self.number} ≤ {self.due_at:%H:%M}"
