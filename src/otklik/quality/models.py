"""Quality review: scorecards as data, evaluations of contacts, weekly samples, calibration."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Scorecard(models.Model):
    """A checklist contacts are scored against, e.g. «Чат: стандарт качества»."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["name"]
        permissions = [("evaluate", "Can evaluate contacts with scorecards (mentor)")]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    """One line of a scorecard, in a group, with a weight; a critical one failed zeroes it."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="criteria")
    group = models.CharField(
        _("group"), max_length=80, help_text=_("E.g. greeting and address, diagnosis, empathy.")
    )
    text = models.CharField(_("criterion"), max_length=300)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    critical = models.BooleanField(
        _("critical"), default=False, help_text=_("If failed, the whole evaluation scores 0.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["scorecard", "position", "id"]

    def __str__(self) -> str:
        return self.text


class TargetKind(models.TextChoices):
    CHAT = "chat", _("Chat transcript")
    CALL = "call", _("Call summary")
    CASE = "case", _("Case replies")


class EvaluationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for the operator")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISPUTED = "disputed", _("Disputed")
    UPHELD = "upheld", _("Upheld by the supervisor")
    ANNULLED = "annulled", _("Annulled by the supervisor")


class Evaluation(models.Model):
    """A mentor's or supervisor's scoring of one contact of one operator."""

    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.PROTECT, related_name="+", verbose_name=_("scorecard")
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("evaluator"),
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="quality_evaluations",
        verbose_name=_("operator"),
    )
    kind = models.CharField(_("what"), max_length=8, choices=TargetKind.choices)
    conversation = models.ForeignKey(
        "chat.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("chat"),
    )
    interaction = models.ForeignKey(
        "cases.Interaction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("interaction"),
    )
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("case"),
    )
    # "chat:12": the same contact, whichever of the three it is.
    target_key = models.CharField(_("evaluated contact key"), max_length=40, db_index=True)
    score = models.DecimalField(pgettext_lazy("points", "score"), max_digits=5, decimal_places=1)
    critical_failed = models.BooleanField(_("critical criterion failed"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    calibration = models.BooleanField(
        _("calibration"),
        default=False,
        help_text=_("A calibration score: compared with other evaluators', not the operator's."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=EvaluationStatus.choices,
        default=EvaluationStatus.SUBMITTED,
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    dispute_reason = models.TextField(_("why disputed"), blank=True)
    disputed_at = models.DateTimeField(_("dispute raised"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dispute resolved by"),
    )
    resolution_note = models.TextField(_("supervisor's decision"), blank=True)
    resolved_at = models.DateTimeField(_("dispute resolved"), null=True, blank=True)
    created_at = models.DateTimeField(_("evaluated"), db_index=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["operator", "created_at"], name="evaluation_operator_time")]

    def __str__(self) -> str:
        return f"{self.target_key}: {self.score}"


class AnswerResult(models.TextChoices):
    MET = "met", pgettext_lazy("criterion", "Met")
    FAILED = "failed", _("Not met")
    NA = "na", _("Not applicable")


class Answer(models.Model):
    """How one criterion was judged in one evaluation (weight copied: the card may change)."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(max_length=8, choices=AnswerResult.choices)
    weight = models.PositiveSmallIntegerField()
    critical = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "criterion"], name="answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.result}"


class SampleItem(models.Model):
    """A contact picked for review in a week (at random, or by a rule such as a low rating)."""

    week = models.CharField(max_length=8)  # ISO week, "2026-W48"
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=TargetKind.choices)
    target_id = models.PositiveIntegerField()
    target_key = models.CharField(max_length=40)
    rule = models.CharField(max_length=16)  # random | low_rating
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["week", "operator_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["week", "target_key"], name="sample_target_once")
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.target_key}"
