"""The notification outbox: written in the same transaction as the change it reports."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push")
    WEBHOOK = "webhook", _("Webhook")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Gave up")


class Outbox(models.Model):
    """One message to one recipient on one channel.

    `key` is unique: the same logical notification (e.g. "portal answer on case 7 to the
    client by e-mail") is stored once however often the change is retried, and the worker
    claims a row with a conditional UPDATE, so it is never sent twice.
    """

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=NotificationChannel.choices)
    address = models.CharField(_("address"), max_length=300)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("client"),
    )
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("case"),
    )
    subject = models.CharField(pgettext_lazy("email", "subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    # A message with a secret (one-time code): `body` shows it masked; the full text is
    # here, encrypted (notifications.sealing), until sent or `secret_expires_at`, then "".
    sealed_body = models.TextField(
        blank=True, default="", editable=False, verbose_name=_("sealed body")
    )
    secret_expires_at = models.DateTimeField(_("secret expires"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    locked_until = models.DateTimeField(null=True, blank=True, verbose_name=_("locked until"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("notification outbox")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed", "sending"]),
                name="outbox_due",
            ),
            models.Index(fields=["case", "created_at"], name="outbox_case_time"),
            models.Index(
                fields=["secret_expires_at"],
                condition=~models.Q(sealed_body=""),
                name="outbox_sealed_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address}: {self.subject or self.body[:40]}"
