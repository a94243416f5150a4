"""Staff: users with a role, the teams they work in and the departments cases go to."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from otklik.common.timezones import TIME_ZONE_CHOICES


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    SENIOR_OPERATOR = "senior_operator", _("Senior operator")
    SPECIALIST = "specialist", _("Department specialist")
    SUPERVISOR = "supervisor", _("Supervisor")
    PERSONAL_MANAGER = "personal_manager", _("Personal manager")
    ADMIN = "admin", _("Administrator")


class Team(models.Model):
    """A group of front-line staff sharing a queue (e.g. "Вторая линия", "Чат банка")."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A back-office unit a case owner can hand a question to (security, treasury, ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. The role decides what they may see and do."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.OPERATOR)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="specialists",
        help_text=_("For department specialists: the department whose handoffs they work."),
    )
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        choices=TIME_ZONE_CHOICES,
        help_text=_("Times are shown on this clock; empty means the site's time zone."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or self.username

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or self.role in (Role.SUPERVISOR, Role.ADMIN)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("key hash")
    )
    prefix = models.CharField(max_length=8, editable=False, verbose_name=_("prefix"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last used at")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str]:
        """Return a new raw token and its hash; the raw value is shown once."""
        raw = "otk_" + secrets.token_urlsafe(32)
        return raw, _hash_token(raw)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)


class StaffTotp(models.Model):
    """A staff member's TOTP authenticator (RFC 6238, 30-second steps, six digits).

    The shared secret is stored only encrypted under OTKLIK_TOTP_SECRET_KEY (a key of its
    own, not in the database) and is shown once, on the enrolment page, until confirmed.
    `last_step` is the time step of the last accepted code: a code is good once.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    sealed_secret = models.TextField(editable=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    last_step = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("authenticator (TOTP)")
        verbose_name_plural = _("authenticators (TOTP)")

    def __str__(self) -> str:
        return f"{self.user} TOTP"
