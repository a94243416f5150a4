"""E-mail channel: the team mailboxes, every message in and out, and their attachments.

A message is stored once per mailbox and direction by its Message-ID, which is how replies
are threaded back to their case (In-Reply-To / References) and how a duplicate delivery
(IMAP and the SMTP gateway both, or a re-poll) is ignored.
"""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Security(models.TextChoices):
    SSL = "ssl", _("TLS (implicit)")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (local servers only)")


class Mailbox(models.Model):
    """A team's mailbox: where client mail is read (IMAP) and replies are sent (SMTP).

    Passwords are stored sealed (`mail.crypto`); set them with `set_passwords`.
    """

    name = models.CharField(_("name"), max_length=120)
    address = models.EmailField(_("address"), unique=True)
    display_name = models.CharField(_("sender name"), max_length=120, blank=True)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    signature = models.TextField(
        _("team signature"), blank=True, help_text=_("Added under every reply from this box.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    imap_host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    imap_username = models.CharField(_("IMAP user"), max_length=200, blank=True)
    imap_password_sealed = models.TextField(_("IMAP password (sealed)"), blank=True, editable=False)
    smtp_host = models.CharField(_("SMTP host"), max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=465)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    smtp_username = models.CharField(_("SMTP user"), max_length=200, blank=True)
    smtp_password_sealed = models.TextField(_("SMTP password (sealed)"), blank=True, editable=False)
    # IMAP state: the folder's UIDVALIDITY and the highest UID already taken.
    uid_validity = models.BigIntegerField(_("IMAP UIDVALIDITY"), default=0, editable=False)
    last_uid = models.BigIntegerField(_("last UID taken"), default=0, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def set_passwords(self, *, imap: str | None = None, smtp: str | None = None) -> None:
        """Seal the given passwords into the row (the caller saves it)."""
        from otklik.mail.crypto import seal_password

        if imap is not None:
            self.imap_password_sealed = seal_password(imap)
        if smtp is not None:
            self.smtp_password_sealed = seal_password(smtp)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "otklik.local"


class MailDirection(models.TextChoices):
    INBOUND = "inbound", pgettext_lazy("mail", "Received")
    OUTBOUND = "outbound", _("Sent")


class MailStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("mail", "Received")
    IGNORED = "ignored", _("Ignored")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Delivery failed")


class IgnoreReason(models.TextChoices):
    AUTO_REPLY = "auto_reply", _("Automatic reply")
    BOUNCE = "bounce", _("Delivery report")
    LOOP = "loop", _("Sent by one of our mailboxes")
    RATE_LIMITED = "rate_limited", _("Too many messages from the sender")
    NO_SENDER = "no_sender", _("No sender address")


class MailMessage(models.Model):
    """One e-mail in or out of a mailbox, and the case it belongs to (if any)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=8, choices=MailDirection.choices)
    status = models.CharField(_("status"), max_length=10, choices=MailStatus.choices)
    ignore_reason = models.CharField(max_length=16, choices=IgnoreReason.choices, blank=True)
    message_id = models.CharField(max_length=250)
    in_reply_to = models.CharField(max_length=250, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(pgettext_lazy("sender", "from"), max_length=250)
    from_name = models.CharField(max_length=200, blank=True)
    to_addresses = models.TextField(pgettext_lazy("recipient", "to"), blank=True)
    subject = models.CharField(pgettext_lazy("email", "subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    quoted_text = models.TextField(_("quoted history"), blank=True)
    body_html = models.TextField(_("sanitised HTML"), blank=True)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mail_messages",
    )
    interaction = models.ForeignKey(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_known = models.BooleanField(default=True)
    error = models.CharField(_("delivery error"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("message", "e-mail")
        verbose_name_plural = pgettext_lazy("messages", "e-mails")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "direction", "message_id"], name="mail_unique_message_id"
            )
        ]
        indexes = [
            models.Index(fields=["message_id"], name="mail_message_id"),
            models.Index(fields=["status", "created_at"], name="mail_status_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.subject[:60]}"


def attachment_path(instance: "MailAttachment", filename: str) -> str:
    """A random stored name: the sender's file name is never part of a path."""
    ext = filename.rpartition(".")[2].lower() if "." in filename else "bin"
    return f"mail/{instance.message_id}/{secrets.token_hex(16)}.{ext}"


class MailAttachment(models.Model):
    """A file that came with an e-mail and passed the upload checks (inline images too)."""

    message = models.ForeignKey(MailMessage, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("name"), max_length=150)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to=attachment_path, max_length=200)
    content_id = models.CharField(max_length=250, blank=True)
    inline = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("e-mail attachment")
        verbose_name_plural = _("e-mail attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
