"""Analytics: hourly and daily rollups of the contact-centre figures, NPS surveys, who sees which
teams on the dashboard, and subscriptions to the weekly report.

The analytics app sits above cases, chat, portal, handoffs and sla: it reads their rows,
none of them imports it (rollups are refreshed by a periodic scan from a watermark).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from otklik.clients.models import BusinessLine, Segment


class RollupCounters(models.Model):
    """The additive counters of one rollup row (both levels have the same)."""

    team_id = models.IntegerField(default=0)
    operator_id = models.IntegerField(default=0)
    channel = models.CharField(max_length=16)
    topic_id = models.IntegerField(default=0)
    # Contacts (inbound interactions) and handle time (AHT).
    contacts = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    handle_seconds = models.BigIntegerField(default=0)
    # Service level and speed of answer (offered = answered + abandoned/missed).
    offered = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    answered_in_sl = models.IntegerField(default=0)
    wait_seconds = models.BigIntegerField(default=0)
    # CSI ratings (1–5) from the portal, the chat and e-mail/SMS.
    csi_count = models.IntegerField(default=0)
    csi_sum = models.IntegerField(default=0)
    csi_good = models.IntegerField(default=0)
    # NPS answers (0–10).
    nps_count = models.IntegerField(default=0)
    nps_promoters = models.IntegerField(default=0)
    nps_detractors = models.IntegerField(default=0)
    # First contact resolution, dated by the resolution.
    resolved = models.IntegerField(default=0)
    fcr = models.IntegerField(default=0)
    # Answers in the personal cabinet (ЛК) within 24 h.
    portal_answers = models.IntegerField(default=0)
    portal_on_time = models.IntegerField(default=0)

    class Meta:
        abstract = True


class HourlyRollup(RollupCounters):
    """Additive counters for one hour × team × operator × channel × topic.

    Every figure on the dashboard that can be summed is a sum over these rows (a mean is
    a sum divided by a count), so any period and any filter is one GROUP BY over them.
    Zero means "none"; team, operator and topic 0 mean "not set" (no NULLs in the key, so
    the unique constraint holds on every database).
    """

    hour = models.DateTimeField()

    class Meta:
        verbose_name = _("hourly rollup")
        verbose_name_plural = _("hourly rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "team_id", "operator_id", "channel", "topic_id"],
                name="rollup_key_unique",
            )
        ]
        indexes = [
            models.Index(fields=["team_id", "hour"], name="rollup_team_hour"),
            models.Index(fields=["operator_id", "hour"], name="rollup_operator_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.channel}"


class DailyRollup(RollupCounters):
    """The hourly rows of one local day summed per team × operator × channel × topic.

    `day` is the instant the local day starts (TIME_ZONE); a day's row always equals the
    sum of that day's hourly rows (rollups.refresh_days rewrites it from them whenever an
    hour of the day is refreshed). Periods of whole days longer than one day read this
    level: a day's 24 hourly rows collapse to one per key.
    """

    day = models.DateTimeField()

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team_id", "operator_id", "channel", "topic_id"],
                name="daily_rollup_key_unique",
            )
        ]
        indexes = [
            models.Index(fields=["team_id", "day"], name="daily_rollup_team_day"),
            models.Index(fields=["operator_id", "day"], name="daily_rollup_operator_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.channel}"


class RollupWatermark(models.Model):
    """How far the rollups are up to date (one row): the scan recomputes from here."""

    name = models.CharField(max_length=40, unique=True)
    computed_until = models.DateTimeField()
    # The highest id seen per source table: rows inserted since then with an event time
    # behind the look-back (late imports, backdated records) get their hours refreshed.
    last_ids = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rollup watermark")
        verbose_name_plural = _("rollup watermarks")

    def __str__(self) -> str:
        return f"{self.name}: {self.computed_until:%Y-%m-%d %H:%M}"


class SurveyKind(models.TextChoices):
    AFTER_CASE = "after_case", _("After a closed case")
    RELATIONSHIP = "relationship", _("Relationship survey")


class SurveyChannel(models.TextChoices):
    PORTAL = "portal", _("Personal cabinet")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class SurveyCampaign(models.Model):
    """One relationship survey: who chose which clients (business line, segment, package
    level; empty means any), on which channel, and what became of the send."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("sent"))
    business_line = models.CharField(
        _("business line"), max_length=16, blank=True, choices=BusinessLine.choices
    )
    segment = models.CharField(_("segment"), max_length=16, blank=True, choices=Segment.choices)
    package_level = models.ForeignKey(
        "relationship.PackageLevel",
        verbose_name=_("package level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=SurveyChannel.choices)
    matched = models.PositiveIntegerField(_("clients chosen"), default=0)
    quiet = models.PositiveIntegerField(_("skipped: asked recently"), default=0)
    unreachable = models.PositiveIntegerField(_("skipped: no address"), default=0)
    sent = models.PositiveIntegerField(_("surveys sent"), default=0)

    class Meta:
        verbose_name = _("relationship survey")
        verbose_name_plural = _("relationship surveys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%d.%m.%Y} {self.channel} ({self.sent})"


class NpsSurvey(models.Model):
    """One NPS question sent to a client ("would you recommend us…", 0–10) and its answer."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=SurveyKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=SurveyChannel.choices)
    segment = models.CharField(_("segment"), max_length=16, blank=True)
    campaign = models.ForeignKey(
        SurveyCampaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    sent_at = models.DateTimeField(_("sent"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Copied from the case when sent, so the rollups need no join (0 = not set).
    team_id = models.IntegerField(default=0)
    operator_id = models.IntegerField(default=0)
    topic_id = models.IntegerField(default=0)
    case_channel = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("NPS survey")
        verbose_name_plural = _("NPS surveys")
        ordering = ["-sent_at"]
        indexes = [
            models.Index(fields=["client", "sent_at"], name="nps_client_sent"),
            models.Index(fields=["answered_at"], name="nps_answered"),
        ]

    def __str__(self) -> str:
        return f"NPS {self.get_kind_display()} {self.score if self.score is not None else '—'}"


class DashboardScope(models.Model):
    """Which teams a supervisor watches beyond their own, or all (head of the centre)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analytics_scope"
    )
    sees_all = models.BooleanField(_("head of the centre (all teams)"), default=False)
    teams = models.ManyToManyField("accounts.Team", blank=True, related_name="+")

    class Meta:
        verbose_name = _("dashboard scope")
        verbose_name_plural = _("dashboard scopes")

    def __str__(self) -> str:
        return str(self.user)


class ReportSubscription(models.Model):
    """A supervisor who gets the weekly report by e-mail; `last_week` stops double sends."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analytics_report"
    )
    email = models.EmailField(_("e-mail"))
    last_week = models.CharField(max_length=10, blank=True, editable=False)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("weekly report subscription")
        verbose_name_plural = _("weekly report subscriptions")

    def __str__(self) -> str:
        return str(self.user)
