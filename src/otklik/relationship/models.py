"""The personal manager's desk: portfolio, service profile, health, call list, offers.

Sits above `clients` and `cases`: a premium client keeps `Client.personal_manager`; this
app adds what the manager needs to look after a book of ~1 600 such clients.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PackageLevel(models.Model):
    """A level of the service package (e.g. «Пакет решений Platinum»); criteria hang off it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    monthly_fee = models.DecimalField(
        _("monthly fee, ₽"), max_digits=12, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("package level")
        verbose_name_plural = _("package levels")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Relationship(models.Model):
    """A client's place in a manager's book and how they want to be served.

    The profile part (address form, «на ты», channels, interests) is shown to every
    operator at the top of the client card; the portfolio part (package, next contact)
    only to the manager and those above him.
    """

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="relationship"
    )
    package_level = models.ForeignKey(
        PackageLevel,
        verbose_name=_("package level"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    informal = models.BooleanField(
        _("on «ты»"), default=False, help_text=_("Only when the client asked for it.")
    )
    preferred_channels = models.CharField(_("preferred channels"), max_length=200, blank=True)
    preferred_hours = models.CharField(_("preferred hours"), max_length=100, blank=True)
    interests = models.TextField(_("interests"), blank=True)
    inform_about = models.TextField(_("inform about"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    next_contact_on = models.DateField(_("next planned contact"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("service profile")
        verbose_name_plural = _("service profiles")

    def __str__(self) -> str:
        return str(self.client_id)


class RelatedClient(models.Model):
    """A family member (or partner) of the client whom the manager also helps."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    related = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    relation = models.CharField(_("relation"), max_length=60)

    class Meta:
        verbose_name = _("related client")
        verbose_name_plural = _("related clients")
        constraints = [
            models.UniqueConstraint(fields=["client", "related"], name="related_client_once")
        ]

    def __str__(self) -> str:
        return self.relation


class AssignmentChange(models.Model):
    """History: a client moved from one manager to another (or first assigned)."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="+", verbose_name=_("client")
    )
    from_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("previous manager"),
    )
    to_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("new manager"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("assignment change")
        verbose_name_plural = _("assignment changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "at"], name="rel_assign_client_at")]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.from_manager_id}→{self.to_manager_id}"


class MetricUnit(models.TextChoices):
    RUB = "rub", _("roubles")
    COUNT = "count", _("count")
    FLAG = "flag", _("yes/no")


class Metric(models.Model):
    """An aggregate the back office sends (card spend this month, balance, salary credited)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=8, choices=MetricUnit.choices)

    class Meta:
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CriterionKind(models.TextChoices):
    FEE_WAIVER = "fee_waiver", _("Fee-free criterion of the package")
    USAGE = "usage", _("Uses a product or service")
    PAID_UNUSED = "paid_unused", _("Uses a product they pay for")
    OTHER = "other", _("Other")


class Comparison(models.TextChoices):
    GTE = "gte", "≥"
    LTE = "lte", "≤"


class HealthCriterion(models.Model):
    """A rule of client health, as data: metric, comparison, threshold, per package level.

    Fee-free criteria of one level are alternatives (any one met keeps the package free),
    as in «покупки от 100 000 ₽ в месяц или остаток от 1 500 000 ₽».
    """

    package_level = models.ForeignKey(
        PackageLevel, on_delete=models.CASCADE, related_name="criteria", verbose_name=_("level")
    )
    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind"), max_length=16, choices=CriterionKind.choices)
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, verbose_name=_("metric"))
    comparison = models.CharField(
        _("comparison"), max_length=3, choices=Comparison.choices, default=Comparison.GTE
    )
    threshold = models.DecimalField(_("threshold"), max_digits=16, decimal_places=2)
    monthly = models.BooleanField(
        _("monthly"),
        default=True,
        help_text=_("Read this month's aggregate; otherwise the latest daily value."),
    )
    weight = models.PositiveSmallIntegerField(_("weight in the health score"), default=1)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("health criterion")
        verbose_name_plural = _("health criteria")
        ordering = ["package_level", "id"]

    def __str__(self) -> str:
        return self.name


class MetricValue(models.Model):
    """One aggregate from the feed: a client's metric for a period (day, or month's 1st)."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(_("period"))
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("metric value")
        verbose_name_plural = _("metric values")
        constraints = [
            models.UniqueConstraint(fields=["client", "metric", "period"], name="metric_value_once")
        ]
        indexes = [models.Index(fields=["metric", "period"], name="rel_metric_period")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.metric_id} {self.period}: {self.value}"


class FeedBatch(models.Model):
    """A batch of the feed already applied, so a resent batch changes nothing twice."""

    key = models.CharField(_("batch key"), max_length=200, unique=True)
    source = models.CharField(_("source"), max_length=16)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("loaded by"),
    )
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("feed batch")
        verbose_name_plural = _("feed batches")
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.key


class HealthResult(models.Model):
    """A criterion's result for a client at the last recompute: met or not, by how much.

    Stored for the criteria the call list reads (a product paid for but unused); the
    client's page computes the full breakdown from the feed when it is opened.
    """

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    criterion = models.ForeignKey(HealthCriterion, on_delete=models.CASCADE, related_name="+")
    value = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    met = models.BooleanField(default=False)
    gap = models.DecimalField(
        max_digits=16, decimal_places=2, default=0, help_text=_("How far from the threshold.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "criterion"], name="health_result_once")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}/{self.criterion_id}: {self.met}"


class HealthSummary(models.Model):
    """The client's health at the last recompute, kept for the portfolio and call list."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="health"
    )
    score = models.PositiveSmallIntegerField(_("health"), default=0)
    met = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)
    fee_free = models.BooleanField(default=False)
    fee_shortfall = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    fee_criterion = models.ForeignKey(
        HealthCriterion, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["fee_shortfall"], name="rel_health_shortfall")]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.score}"


class OnboardingTemplateStep(models.Model):
    """A step of the onboarding checklist every new client gets, as data (admin).

    A client's checklist is copied from the active steps when he is first assigned
    (`OnboardingStep`): adding, reordering, re-timing or retiring a step here changes the
    checklists started from then on, never one already under way.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("step"), max_length=160)
    due_days = models.PositiveSmallIntegerField(
        _("due, days after assignment"), validators=[MaxValueValidator(365)]
    )
    position = models.PositiveSmallIntegerField(pgettext_lazy("sequence", "order"), default=0)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Retired steps are not given to new clients.")
    )

    class Meta:
        verbose_name = _("onboarding checklist step")
        verbose_name_plural = _("onboarding checklist")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class OnboardingStep(models.Model):
    """One step of a new client's onboarding checklist, with its due date."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    code = models.SlugField(max_length=40)
    title = models.CharField(_("step"), max_length=160)
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("onboarding step")
        verbose_name_plural = _("onboarding steps")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "code"], name="onboarding_step_once")
        ]

    def __str__(self) -> str:
        return self.title


class Outcome(models.TextChoices):
    TALKED = "talked", _("Talked, done")
    NO_ANSWER = "no_answer", _("No answer")
    CALL_BACK = "call_back", _("Asked to call back")


class CallOutcome(models.Model):
    """The result of a proactive call: which reasons it dealt with and when to come back."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reason_keys = models.JSONField(default=list)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("call outcome")
        verbose_name_plural = _("call outcomes")
        ordering = ["-at"]
        indexes = [models.Index(fields=["client", "at"], name="rel_outcome_client_at")]

    def __str__(self) -> str:
        return self.outcome


class ManagerTask(models.Model):
    """A reminder for the manager (call back on a date, follow up a handoff)."""

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("task"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["notified_at", "due_at"], name="rel_task_due")]

    def __str__(self) -> str:
        return self.title


class Absence(models.Model):
    """A manager away (holiday, sick leave) and the named deputy who covers his book."""

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("manager"),
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("deputy"),
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to (inclusive)"))

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return f"{self.manager_id}→{self.deputy_id} {self.starts_on}…{self.ends_on}"


class OfferRule(models.Model):
    """A product to propose and when, as data: metric conditions and products lacked.

    `conditions` is a list of {"metric": code, "op": "gte"|"lte", "value": number};
    `lacks_product` is a word that none of the client's active product names may contain
    (e.g. "Кредитная карта").
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("offer"), max_length=160)
    pitch = models.CharField(_("why it helps"), max_length=300, blank=True)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    lacks_product = models.CharField(_("client has no product named"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("offer rule")
        verbose_name_plural = _("offer rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title


class OfferStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class OfferOutcome(models.Model):
    """What became of an offer to a client; feeds the manager's figures."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(OfferRule, on_delete=models.CASCADE, related_name="+")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=OfferStatus.choices)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("offer outcome")
        verbose_name_plural = _("offer outcomes")
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.status
