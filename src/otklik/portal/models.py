"""The client portal (ЛК): one-time login codes, read marks, portal answers and CSI ratings."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class PortalLoginCode(models.Model):
    """A one-time code a client asked for to log in. Only an HMAC of the code is stored.

    A code is good once (`used_at`), until `expires_at`, for a few wrong tries
    (`attempts`); asking for a new code retires the older ones.
    """

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="portal_login_codes"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=LoginChannel.choices)
    code_hash = models.CharField(max_length=64, editable=False)
    salt = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)

    class Meta:
        verbose_name = _("portal login code")
        verbose_name_plural = _("portal login codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "created_at"], name="portal_code_client_time")]

    def __str__(self) -> str:
        at = timezone.localtime(self.created_at)
        return f"{self.client_id} {self.get_channel_display()} {at:%Y-%m-%d %H:%M}"


class PortalCaseRead(models.Model):
    """How far a client has read a case in the portal: messages up to this id are read."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="portal_reads")
    last_read_message_id = models.BigIntegerField(default=0)
    read_at = models.DateTimeField(_("read"))

    class Meta:
        verbose_name = _("portal read mark")
        verbose_name_plural = _("portal read marks")
        constraints = [
            models.UniqueConstraint(fields=["client", "case"], name="portal_read_unique")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ≤ {self.last_read_message_id}"


class PortalAnswer(models.Model):
    """A reply posted as "the answer in the personal cabinet" (story 001's standard).

    `due_at` is the deadline the answer was measured against; `on_time` is decided when
    the answer is posted. `idempotency_key` makes a double-submitted form post once.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="portal_answers")
    message = models.OneToOneField(
        "cases.Message", on_delete=models.CASCADE, related_name="portal_answer"
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    posted_at = models.DateTimeField(_("posted"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    on_time = models.BooleanField(_("on time"), default=True)
    idempotency_key = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        verbose_name = _("portal answer")
        verbose_name_plural = _("portal answers")
        ordering = ["-posted_at"]
        indexes = [models.Index(fields=["posted_at"], name="portal_answer_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                name="portal_answer_idem_unique",
                condition=~Q(idempotency_key=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {timezone.localtime(self.posted_at):%Y-%m-%d %H:%M}"


class CsiRating(models.Model):
    """The client's score (1–5) of an answer, with an optional comment: the CSI record.

    One rating per answer; the client may change it for a while (see services).
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="csi_ratings")
    message = models.OneToOneField(
        "cases.Message", on_delete=models.CASCADE, related_name="csi_rating"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("CSI rating")
        verbose_name_plural = _("CSI ratings")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="csi_rating_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="csi_rating_score_1_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}"
