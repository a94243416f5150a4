"""Service levels: business calendars, SLA policies and the stored deadlines they produce."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def default_weekly_hours() -> dict:
    """Monday to Friday, 09:00–18:00 (weekday numbers as in `date.weekday()`)."""
    return {str(day): [["09:00", "18:00"]] for day in range(5)}


class BusinessCalendar(models.Model):
    """When a team (or a department) works: weekly hours, a time zone, exceptions by date.

    `weekly_hours` maps a weekday ("0" Monday … "6" Sunday) to a list of ["HH:MM", "HH:MM"]
    spans; several spans a day describe a lunch break, "24:00" ends a span at midnight.
    A 24/7 calendar ignores hours and exceptions: its business time is wall-clock time.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    is_24x7 = models.BooleanField(_("around the clock"), default=False)
    weekly_hours = models.JSONField(
        _("weekly working hours"),
        default=default_weekly_hours,
        blank=True,
        help_text=_('Weekday 0 (Monday) to 6 (Sunday) → spans, e.g. {"0": [["09:00", "18:00"]]}.'),
    )
    teams = models.ManyToManyField(
        "accounts.Team", verbose_name=_("teams"), blank=True, related_name="sla_calendars"
    )
    departments = models.ManyToManyField(
        "accounts.Department",
        verbose_name=_("departments"),
        blank=True,
        related_name="sla_calendars",
    )
    is_default = models.BooleanField(
        _("default"), default=False, help_text=_("Used for teams without their own calendar.")
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from otklik.sla.calendar import parse_weekly

        try:
            parse_weekly(self.weekly_hours)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValidationError({"weekly_hours": str(exc)}) from exc


class CalendarDay(models.Model):
    """An exception to the weekly hours: a public holiday or a moved working day."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"), default=False)
    start = models.TimeField(
        _("start"), null=True, blank=True, help_text=_("Empty: the calendar's usual hours.")
    )
    end = models.TimeField(_("end"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_calday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"


class DeadlineKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")
    HANDOFF_ANSWER = "handoff_answer", _("Department answer")
    PORTAL_ANSWER = "portal_answer", _("Answer in the personal cabinet")


class SlaPolicy(models.Model):
    """Targets in business minutes for cases matching a topic, priority and channel.

    Empty topic, priority or channel match anything. For each kind of deadline the most
    specific active policy that sets that kind wins (topic > priority > channel).
    """

    name = models.CharField(_("name"), max_length=150)
    topic = models.ForeignKey(
        "cases.Topic", verbose_name=_("topic"), null=True, blank=True, on_delete=models.CASCADE
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), null=True, blank=True, choices=[(1, 1), (2, 2), (3, 3), (4, 4)]
    )
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    first_response_minutes = models.PositiveIntegerField(
        _("first response, minutes"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution, minutes"), null=True, blank=True
    )
    handoff_answer_minutes = models.PositiveIntegerField(
        _("department answer, minutes"), null=True, blank=True
    )
    portal_answer_minutes = models.PositiveIntegerField(
        _("personal cabinet answer, minutes"), null=True, blank=True
    )
    warn_before_percent = models.PositiveSmallIntegerField(
        _("warn before, % of the target"),
        null=True,
        blank=True,
        help_text=_("Empty: the default (20 %)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def minutes_for(self, kind: str) -> int | None:
        return getattr(self, f"{kind}_minutes")


class Deadline(models.Model):
    """One stored SLA clock on a case. The breach scan reads only these rows.

    Open = not met, not cancelled. Paused = waiting for the client: `due_at` is kept for
    display but the scan ignores the row; `remaining_seconds_at_pause` is business time left.
    """

    # Each case writes two of these rows at intake, so indexes are few: case lookups use
    # sla_deadline_case_kind; policy and calendar are only read through the row, and their
    # rare deletion (SET NULL) may scan.
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        related_name="deadlines",
        db_index=False,
        verbose_name=_("case"),
    )
    handoff = models.ForeignKey(
        "handoffs.Handoff",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadlines",
        verbose_name=_("handoff"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DeadlineKind.choices)
    policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("policy"),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("calendar"),
    )
    target_minutes = models.PositiveIntegerField(_("target, business minutes"))
    warn_before_seconds = models.PositiveIntegerField(
        default=0, verbose_name=_("warn before seconds")
    )
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    remaining_seconds_at_pause = models.FloatField(
        null=True, blank=True, verbose_name=_("remaining seconds at pause")
    )
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["due_at"]
        indexes = [
            # The breach scan: only running, unbreached clocks are in this index, so its
            # cost follows the number of due rows, not of all open deadlines.
            models.Index(
                fields=["due_at"],
                name="sla_deadline_due",
                condition=Q(
                    met_at__isnull=True,
                    cancelled_at__isnull=True,
                    breached_at__isnull=True,
                    paused_at__isnull=True,
                ),
            ),
            models.Index(
                fields=["warn_at"],
                name="sla_deadline_warn",
                condition=Q(
                    met_at__isnull=True,
                    cancelled_at__isnull=True,
                    breached_at__isnull=True,
                    warned_at__isnull=True,
                    paused_at__isnull=True,
                    warn_at__isnull=False,
                ),
            ),
            models.Index(fields=["case", "kind"], name="sla_deadline_case_kind"),
            models.Index(fields=["kind", "met_at"], name="sla_deadline_kind_met"),
        ]
        constraints = [
            # One running clock per (case, kind) and per (case, kind, handoff).
            models.UniqueConstraint(
                fields=["case", "kind"],
                name="sla_deadline_one_open",
                condition=Q(met_at__isnull=True, cancelled_at__isnull=True, handoff__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["case", "kind", "handoff"],
                name="sla_deadline_one_open_handoff",
                condition=Q(met_at__isnull=True, cancelled_at__isnull=True, handoff__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    @property
    def met_on_time(self) -> bool | None:
        if self.met_at is None:
            return None
        return self.breached_at is None and self.met_at <= self.due_at
