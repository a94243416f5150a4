"""Orders (распоряжения) a client signs in the personal cabinet, and their workflow.

An operator drafts an order from a template with fields taken from the client card; the
client reads the rendered document in the portal and signs it with a one-time code (a
simple electronic signature: document hash, time, IP and code id are stored). Signing
starts the order's workflow: numbered steps, each run by an executor, each with a state
the client and the operator see.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from otklik.common.languages import in_language


class TemplateCode(models.TextChoices):
    IIS_CLOSE_FROZEN = "iis_close_frozen", _("Close an ИИС with frozen assets")
    WITHDRAW_FUNDS = "withdraw_funds", _("Withdraw funds")
    CARD_REISSUE_INDIVIDUAL = "card_reissue_individual", _("Reissue a card on individual terms")


class OrderTemplate(models.Model):
    """What an order says and what happens after it is signed.

    `body` is Django template text filled with the order's fields (plain text, not HTML);
    `fields_schema` lists the fields the operator may edit, each
    `{"name", "label", "required"}`; `steps` is the workflow, each
    `{"code", "name", "executor"}` (executor kinds: see `ExecutorKind`). `name_en`, and
    `label_en` / `name_en` in those entries, are the English twins the English UI shows.
    """

    code = models.CharField(_("code"), max_length=40, unique=True, choices=TemplateCode.choices)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    title = models.CharField(_("document title"), max_length=300)
    body = models.TextField(_("document text template"))
    fields_schema = models.JSONField(_("editable fields"), default=list, blank=True)
    steps = models.JSONField(_("workflow steps"), default=list, blank=True)
    product_kinds = models.JSONField(
        _("product kinds"),
        default=list,
        blank=True,
        help_text=_("Which of the client's products the order may be about."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("order template")
        verbose_name_plural = _("order templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT_FOR_SIGNATURE = "sent_for_signature", _("Sent for signature")
    SIGNED = "signed", _("Signed")
    IN_PROGRESS = "in_progress", pgettext_lazy("order", "In progress")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", pgettext_lazy("order", "Cancelled")


class Order(models.Model):
    """One order: drafted by an operator on a case, signed by the client, then carried out.

    The signature fields are the simple electronic signature: the SHA-256 of the document
    the client read (`document_hash`), when, from which IP, with which one-time code.
    """

    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="orders"
    )
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="orders"
    )
    template = models.ForeignKey(
        OrderTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "clients.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    fields = models.JSONField(_("fields"), default=dict)
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("document text"))
    status = models.CharField(
        _("status"), max_length=24, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drafted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    drafted_at = models.DateTimeField(_("drafted"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent for signature"), null=True, blank=True)
    document = models.ForeignKey(
        "OrderDocument",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_document = models.ForeignKey(
        "OrderDocument",
        verbose_name=_("signed document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    document_hash = models.CharField(_("hash of the signed document"), max_length=64, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    signer_ip = models.GenericIPAddressField(_("signer's IP address"), null=True, blank=True)
    signature_code = models.ForeignKey(
        "OrderSigningCode",
        verbose_name=_("signing code"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-drafted_at", "-id"]
        indexes = [
            models.Index(fields=["case", "drafted_at"], name="order_case_time"),
            models.Index(fields=["client", "drafted_at"], name="order_client_time"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"Р-{self.pk}"


class DocumentKind(models.TextChoices):
    ORDER = "order", _("Order")
    SIGNED_ORDER = "signed_order", _("Signed order")
    CLOSURE_NOTICE = "closure_notice", _("Notice of the ИИС closure for the tax office")


class ImmutableDocumentError(Exception):
    """A stored document was about to be changed; documents are written once."""


class OrderDocument(models.Model):
    """A PDF stored under MEDIA_ROOT/orders/ with its SHA-256. Written once, never changed.

    `save()` refuses to update an existing row, and the hash is checked again each time
    the file is downloaded.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=300)
    file = models.CharField(_("file"), max_length=300, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    size = models.PositiveIntegerField(_("size, bytes"), editable=False)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("order document")
        verbose_name_plural = _("order documents")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="order_document_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.sha256[:12]})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None or not self._state.adding:
            raise ImmutableDocumentError(f"order document {self.pk} is immutable")
        super().save(*args, **kwargs)

    @property
    def filename(self) -> str:
        return f"{self.kind}-{self.order_id}.pdf"


class OrderSigningCode(models.Model):
    """A one-time code to sign one order. Only an HMAC of the code is stored.

    Good once (`used_at`), until `expires_at`, for a few wrong tries (`attempts`); asking
    for a new code retires the older ones of the same order.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="signing_codes")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=8)
    address_hint = models.CharField(_("sent to"), max_length=40, blank=True)
    code_hash = models.CharField(max_length=64, editable=False)
    salt = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)

    class Meta:
        verbose_name = _("order signing code")
        verbose_name_plural = _("order signing codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["order", "created_at"], name="order_code_time")]

    def __str__(self) -> str:
        return f"{self.order_id} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"


class ExecutorKind(models.TextChoices):
    WEBHOOK = "webhook", _("Back office (webhook)")
    DOCUMENT = "document", _("Document")
    LOCAL = "local", _("Recorded here")
    HANDOFF = "handoff", _("By a person")
    WAIT_UNTIL_UNFROZEN = "wait_until_unfrozen", _("Waits until the assets are unblocked")


class StepStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("order", "Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed, will retry")
    HANDED_OFF = "handed_off", _("Handed to a person")
    WAITING = "waiting", _("Waiting")


class OrderStep(models.Model):
    """One step of an order's workflow. Claimed with a lease, done once.

    A runner claims a due step with a conditional UPDATE (`locked_until` is the lease); a
    step whose runner died is due again when the lease ends. Executors are idempotent,
    keyed by `run_key`, so a re-run after a crash does not repeat the effect.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveSmallIntegerField(_("number"))
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    executor = models.CharField(_("executor"), max_length=24, choices=ExecutorKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    locked_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("order step")
        verbose_name_plural = _("order steps")
        ordering = ["order", "seq"]
        constraints = [models.UniqueConstraint(fields=["order", "seq"], name="order_step_seq")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="order_step_due",
                condition=Q(status__in=["pending", "failed", "waiting", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}.{self.seq} {self.code}"

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    @property
    def run_key(self) -> str:
        """The idempotency key of this step's effect, the same on every attempt."""
        return f"order-{self.order_id}-step-{self.seq}"


class OrderEventKind(models.TextChoices):
    DRAFTED = "drafted", _("Drafted")
    SENT = "sent", _("Sent for signature")
    CODE_SENT = "code_sent", _("Signing code sent")
    CODE_REFUSED = "code_refused", _("Signing code refused")
    SIGNED = "signed", _("Signed by the client")
    CANCELLED = "cancelled", pgettext_lazy("order", "Cancelled")
    STEP_STARTED = "step_started", _("Step started")
    STEP_DONE = "step_done", _("Step done")
    STEP_FAILED = "step_failed", _("Step failed")
    STEP_WAITING = "step_waiting", _("Step waiting")
    STEP_HANDED_OFF = "step_handed_off", _("Step handed to a person")
    STEP_RETRIED = "step_retried", _("Step retried")
    STEP_RESOLVED = "step_resolved", _("Step done by a person")
    UNFROZEN = "unfrozen", _("Assets unblocked")
    COMPLETED = "completed", _("Completed")


class OrderEvent(models.Model):
    """The order's history: who (operator, client or the system) did what, and when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=OrderEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_client = models.BooleanField(default=False)
    step_seq = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="order_event_time")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"
