"""The client and everything the operator must see about them at once."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from otklik.common.timezones import TIME_ZONE_CHOICES


class Segment(models.TextChoices):
    MASS = "mass", _("Mass")
    PREMIUM = "premium", _("Premium")
    PRIVATE = "private", _("Private banking")


class Client(models.Model):
    """A person the contact centre serves (bank, broker, lender or telecom customer)."""

    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    segment = models.CharField(
        _("segment"), max_length=16, choices=Segment.choices, default=Segment.MASS
    )
    address_as = models.CharField(
        _("how to address"),
        max_length=200,
        blank=True,
        help_text=_("E.g. «Александр Анатольевич», by name and patronymic."),
    )
    preferences = models.TextField(
        _("preferences"),
        blank=True,
        help_text=_(
            "What matters to this client: preferred channel, time, topics to inform about."
        ),
    )
    personal_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("personal manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_clients",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        choices=TIME_ZONE_CHOICES,
        help_text=_("Times in the portal and in messages to the client; empty: the site's."),
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["last_name", "first_name", "patronymic"]
        permissions = [
            ("view_full_identifiers", _("Can see full card and account numbers, with a reason")),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def greeting_name(self) -> str:
        """How the operator should address the client."""
        return self.address_as or " ".join(p for p in (self.first_name, self.patronymic) if p)


class ChannelKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat")
    PORTAL = "portal", _("Personal cabinet")
    MESSENGER = "messenger", _("Messenger")
    OFFICE = "office", _("Office")


class Reachability(models.TextChoices):
    REACHABLE = "reachable", _("Reachable")
    LIMITED = "limited", _("Limited")
    UNREACHABLE = "unreachable", _("Not reachable")


class ContactPoint(models.Model):
    """One way to reach the client, with a note on whether it works right now."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("channel"), max_length=16, choices=ChannelKind.choices)
    value = models.CharField(_("value"), max_length=200)
    is_primary = models.BooleanField(_("primary"), default=False)
    reachability = models.CharField(
        _("reachability"),
        max_length=16,
        choices=Reachability.choices,
        default=Reachability.REACHABLE,
    )
    reachability_note = models.CharField(
        _("reachability note"),
        max_length=300,
        blank=True,
        help_text=_("E.g. «за границей: звонки с коротких номеров не проходят»."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        ordering = ["-is_primary", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class ClientSearchTerm(models.Model):
    """A normalised key (name form, phone digits, e-mail, contract number) for prefix search.

    Kept as rows with a B-tree index so a search is an index range scan on SQLite and
    PostgreSQL alike, not a scan of every client.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="search_terms")
    term = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["term", "client"], name="client_search_term_idx")]

    def __str__(self) -> str:
        return self.term


class ProductKind(models.TextChoices):
    BROKERAGE = "brokerage", _("Brokerage account")
    IIS = "iis", _("Individual investment account (ИИС)")
    FUND_UNITS = "fund_units", _("Fund units")
    LOAN = "loan", _("Loan")
    CARD = "card", _("Bank card")
    BANK_ACCOUNT = "bank_account", _("Bank account")
    BANK_SERVICE = "bank_service", _("Bank service")
    TELECOM_TARIFF = "telecom_tariff", _("Mobile tariff")
    TELECOM_SERVICE = "telecom_service", _("Mobile service")


class BusinessLine(models.TextChoices):
    """The lines of business one desk serves; a client belongs to those of their products."""

    BANK = "bank", _("Bank")
    BROKER = "broker", _("Broker and asset management")
    MFO = "mfo", _("Microfinance")
    TELECOM = "telecom", _("Telecom")


#: Which line a product kind belongs to (a loan is the microfinance company's in this desk).
PRODUCT_KIND_LINE: dict[str, str] = {
    ProductKind.BROKERAGE: BusinessLine.BROKER,
    ProductKind.IIS: BusinessLine.BROKER,
    ProductKind.FUND_UNITS: BusinessLine.BROKER,
    ProductKind.LOAN: BusinessLine.MFO,
    ProductKind.CARD: BusinessLine.BANK,
    ProductKind.BANK_ACCOUNT: BusinessLine.BANK,
    ProductKind.BANK_SERVICE: BusinessLine.BANK,
    ProductKind.TELECOM_TARIFF: BusinessLine.TELECOM,
    ProductKind.TELECOM_SERVICE: BusinessLine.TELECOM,
}


class ProductStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    BLOCKED = "blocked", _("Blocked")
    CLOSING = "closing", _("Closing")
    CLOSED = "closed", _("Closed")


class Product(models.Model):
    """A product the client holds; `details` is validated against a schema per kind."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="products")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("held within"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        help_text=_("E.g. fund units held on an ИИС contract."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ProductKind.choices)
    name = models.CharField(_("name"), max_length=200)
    number = models.CharField(
        _("contract / account number"), max_length=64, blank=True, db_index=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ProductStatus.choices, default=ProductStatus.ACTIVE
    )
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    opened_on = models.DateField(_("opened"), null=True, blank=True)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def clean(self) -> None:
        from otklik.clients.product_details import validate_details

        self.details = validate_details(self.kind, self.details)


class Tariff(models.Model):
    """A tariff plan a provider currently sells: what «change the tariff» offers to choose.

    Its prices are what the card shows after the change unless the back office reports
    others (issue 16, defect 11: the tariff was typed as free text).
    """

    provider = models.CharField(
        _("provider"), max_length=200, blank=True, help_text=_("Empty: offered by every provider.")
    )
    name = models.CharField(_("name"), max_length=200)
    monthly_fee = models.DecimalField(_("monthly fee, ₽"), max_digits=10, decimal_places=2)
    internet_billing = models.CharField(_("mobile internet"), max_length=200, blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["provider", "monthly_fee", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="tariff_provider_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class RestrictionKind(models.TextChoices):
    FRAUD_CHECK = "fraud_check", _("Check of operations (anti-fraud)")
    FOREIGN_OPERATIONS = "foreign_operations", _("Operations abroad blocked")
    COURT_ORDER = "court_order", _("Court-ordered arrest")
    SANCTIONS_FREEZE = "sanctions_freeze", _("Assets frozen (sanctions)")
    LIMIT = "limit", _("Operation limit")
    CLIENT_REQUEST = "client_request", _("Blocked at client's request")
    SERVICE_STOP = "service_stop", _("Service suspended")


class Restriction(models.Model):
    """A block on a product. Who may lift it, and on which channel, is policy data."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="restrictions")
    kind = models.CharField(_("kind"), max_length=32, choices=RestrictionKind.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    placed_at = models.DateTimeField(_("placed"))
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("restriction")
        verbose_name_plural = _("restrictions")
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None
