"""Operator actions on a client's products: the catalogue, its policy, runs and their calls.

The catalogue (`ActionType`) and the policy (`PolicyRule`) are data an administrator edits;
`otklik.actions.policy.evaluate` is the one place that reads the rules. An `ActionRun` is
one request of one action by one operator; a `BackofficeCall` is one signed webhook to the
back office, retried by the worker until it is answered. `BackofficeOperation` belongs to
the demo back office that answers those webhooks inside the project.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from otklik.common.languages import in_language


class ExecutorKind(models.TextChoices):
    WEBHOOK = "webhook", _("Signed webhook to the back office")
    HANDOFF = "handoff", _("Handoff to a department")
    LOCAL = "local", _("Done in Otklik itself")


class ActionType(models.Model):
    """One action an operator may take on a product (e.g. «Снять проверку операций»).

    `input_kind` names the typed input form declared in code (`otklik.actions.inputs`);
    `restriction_kind` narrows a "lift restriction" action to one kind of block.
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    input_kind = models.CharField(_("input form"), max_length=40)
    product_kinds = models.JSONField(
        _("product kinds"),
        default=list,
        blank=True,
        help_text=_("Product kinds the action applies to; empty means every kind."),
    )
    restriction_kind = models.CharField(
        _("restriction kind"),
        max_length=32,
        blank=True,
        help_text=_("For «lift restriction» actions: which kind of block it lifts."),
    )
    executor = models.CharField(
        _("executor"), max_length=16, choices=ExecutorKind.choices, default=ExecutorKind.WEBHOOK
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For the handoff executor: the department that does the work."),
    )
    limit = models.DecimalField(
        _("amount limit"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Largest amount the input form accepts (e.g. a refund)."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        verbose_name = _("action type")
        verbose_name_plural = _("action catalogue")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the active UI language (the English one when filled)."""
        return in_language(self.name, self.name_en)


class Effect(models.TextChoices):
    ALLOW = "allow", _("Allow")
    DENY = "deny", _("Deny")


class PolicyRule(models.Model):
    """Who may run an action, on which channel, under which conditions.

    Empty `roles` or `channels` match every role or channel. `conditions` is a small JSON
    language (see `otklik.actions.policy.CONDITIONS`), all of which must hold. A matching
    deny rule wins over any allow; with no matching allow rule the action is refused.
    """

    action = models.ForeignKey(ActionType, on_delete=models.CASCADE, related_name="rules")
    effect = models.CharField(_("effect"), max_length=8, choices=Effect.choices)
    roles = models.JSONField(_("roles"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    priority = models.IntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are checked first.")
    )
    message_ru = models.CharField(
        _("why (shown to the operator)"),
        max_length=300,
        blank=True,
        help_text=_("For a deny rule: why it is refused. For an allow rule: a hint."),
    )
    alternative_ru = models.CharField(
        _("what to do instead"),
        max_length=300,
        blank=True,
        help_text=_("E.g. «только по звонку на 900 или в офисе»."),
    )
    message_en = models.CharField(
        _("why, in English"),
        max_length=300,
        blank=True,
        help_text=_("Shown in the English interface; empty: the Russian text is shown."),
    )
    alternative_en = models.CharField(
        _("what to do instead, in English"),
        max_length=300,
        blank=True,
        help_text=_("Shown in the English interface; empty: the Russian text is shown."),
    )

    class Meta:
        verbose_name = _("policy rule")
        verbose_name_plural = _("policy rules")
        ordering = ["action", "priority", "id"]

    def __str__(self) -> str:
        return f"{self.action.code}: {self.effect} #{self.pk}"

    @property
    def message(self) -> str:
        """Why (shown to the operator), in the active UI language."""
        return in_language(self.message_ru, self.message_en)

    @property
    def alternative(self) -> str:
        """What to do instead, in the active UI language."""
        return in_language(self.alternative_ru, self.alternative_en)


class ClientFlagKind(models.TextChoices):
    SECURITY_VERIFIED = "security_verified", _("Verified by the security department")


class ClientFlag(models.Model):
    """A mark a department sets on a client that policies can ask about (one per kind)."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="flags", verbose_name=_("client")
    )
    flag = models.CharField(_("flag"), max_length=40, choices=ClientFlagKind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("set by"),
    )
    set_at = models.DateTimeField(_("set"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("client flag")
        verbose_name_plural = _("client flags")
        constraints = [
            models.UniqueConstraint(fields=["client", "flag"], name="client_flag_unique")
        ]

    def __str__(self) -> str:
        return self.get_flag_display()


class RunStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")
    HANDED_OFF = "handed_off", _("Handed to a department")


class ActionRun(models.Model):
    """One request of an action: who asked, what the policy said, what happened.

    `idempotency_key` is unique, so a request repeated with the same key (a double click,
    an API retry) returns the first run instead of doing the work twice.
    """

    action = models.ForeignKey(
        ActionType, on_delete=models.PROTECT, related_name="runs", verbose_name=_("action")
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    product = models.ForeignKey(
        "clients.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("product"),
    )
    restriction = models.ForeignKey(
        "clients.Restriction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("restriction"),
    )
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_runs",
        verbose_name=_("case"),
    )
    interaction = models.ForeignKey(
        "cases.Interaction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("interaction"),
    )
    channel = models.CharField(_("channel"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    input = models.JSONField(_("input"), default=dict)
    decision_rule = models.ForeignKey(
        PolicyRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decision rule"),
    )
    decision_reason = models.CharField(_("decision"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.PROPOSED
    )
    idempotency_key = models.CharField(
        max_length=200, unique=True, verbose_name=_("idempotency key")
    )
    handoff = models.ForeignKey(
        "handoffs.Handoff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("handoff"),
    )
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("action run")
        verbose_name_plural = _("action runs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "created_at"], name="actionrun_case_time")]

    def __str__(self) -> str:
        return f"{self.action.code} #{self.pk} ({self.status})"


class CallStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    FAILED = "failed", _("Failed, will retry")
    DONE = "done", _("Done by the back office")
    REFUSED = "refused", _("Refused by the back office")
    DEAD = "dead", _("Gave up")


FINAL_CALL_STATUSES = (CallStatus.DONE, CallStatus.REFUSED, CallStatus.DEAD)


class BackofficeCall(models.Model):
    """One signed webhook to the back office, sent until it is answered (at least once).

    The back office drops repeats by `key` (the `Idempotency-Key` header), so a retry
    after a lost answer does the work once. `on_result` is the dotted path of a function
    called once with the final result (an action run's completion, an order step's).
    """

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    operation = models.CharField(_("operation"), max_length=60)
    payload = models.JSONField(default=dict, verbose_name=_("payload"))
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("case"),
    )
    on_result = models.CharField(max_length=200, blank=True, verbose_name=_("on result"))
    status = models.CharField(
        _("status"), max_length=16, choices=CallStatus.choices, default=CallStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    locked_until = models.DateTimeField(null=True, blank=True, verbose_name=_("locked until"))
    response = models.JSONField(default=dict, blank=True, verbose_name=_("response"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("back-office call")
        verbose_name_plural = _("back-office calls")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed", "sending"]),
                name="backoffice_call_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key} ({self.status})"


class BackofficeOperation(models.Model):
    """The demo back office's ledger: one row per operation it has done, once per key."""

    key = models.CharField(max_length=200, unique=True, verbose_name=_("key"))
    operation = models.CharField(max_length=60, verbose_name=_("operation"))
    payload = models.JSONField(default=dict, verbose_name=_("payload"))
    reference = models.CharField(max_length=40, unique=True, verbose_name=_("reference"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("demo back-office operation")
        verbose_name_plural = _("demo back-office ledger")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.operation}"


class BackofficeFailure(models.Model):
    """Tell the demo back office to fail the next `remaining` requests (for demos and tests)."""

    operation = models.CharField(
        max_length=60, blank=True, help_text=_("Empty: any operation."), verbose_name=_("operation")
    )
    remaining = models.PositiveIntegerField(default=1, verbose_name=_("remaining"))
    status_code = models.PositiveSmallIntegerField(default=503, verbose_name=_("status code"))

    class Meta:
        verbose_name = _("demo back-office failure")
        verbose_name_plural = _("demo back-office failures")

    def __str__(self) -> str:
        return f"{self.operation or '*'} ×{self.remaining}"
