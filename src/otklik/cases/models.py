"""Cases (обращения), the interactions that feed them, their messages and history."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from otklik.clients.models import BusinessLine, ChannelKind


class Topic(models.Model):
    """What a case is about; admins keep the list (e.g. «Закрытие ИИС», «Судебное взыскание»)."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent topic"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    default_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("default team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    is_active = models.BooleanField(_("active"), default=True)
    business_line = models.CharField(
        _("business line"),
        max_length=16,
        choices=BusinessLine.choices,
        blank=True,
        help_text=_("Whose topic this is; empty for topics common to every line."),
    )
    visible_to_clients = models.BooleanField(
        _("visible to clients"),
        default=True,
        help_text=_("Offered in the portal to clients of this business line."),
    )

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_DEPARTMENT = "waiting_department", _("Waiting for department")
    WAITING_CLIENT = "waiting_client", _("Waiting for client")
    ANSWERED = "answered", _("Answered")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.IN_PROGRESS,
    CaseStatus.WAITING_DEPARTMENT,
    CaseStatus.WAITING_CLIENT,
    CaseStatus.ANSWERED,
)


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Case(models.Model):
    """A client's question or problem, from first contact to resolution."""

    # No single-column indexes on client, team and owner: the composite indexes in Meta
    # start with them and serve the same lookups, and every index costs intake a write.
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    subject = models.CharField(_("subject"), max_length=300)
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("topic"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    status = models.CharField(
        _("status"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    channel = models.CharField(_("channel"), max_length=16, choices=ChannelKind.choices)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cases",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))
    due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    is_open = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        indexes = [
            # Queue pages: one team's open cases by age, by priority, and overdue ones.
            models.Index(fields=["team", "is_open", "created_at"], name="case_team_open_age"),
            # Priority descending in the index, as the queue sorts it (-priority, created_at):
            # the page is read in index order instead of sorting every open case of the team.
            models.Index(
                fields=["team", "is_open", "-priority", "created_at"], name="case_team_open_prio"
            ),
            # Supervisors' queue over all teams sorted by priority (e.g. overdue first).
            models.Index(fields=["is_open", "-priority", "created_at"], name="case_open_prio"),
            models.Index(fields=["owner", "is_open", "created_at"], name="case_owner_open_age"),
            models.Index(fields=["is_open", "due_at"], name="case_open_due"),
            models.Index(fields=["client", "created_at"], name="case_client_age"),
            models.Index(fields=["status", "created_at"], name="case_status_age"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"№{self.pk}"


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Interaction(models.Model):
    """One touch on one channel (a call, a chat, a portal message, an e-mail)."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="interactions"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=ChannelKind.choices)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.INBOUND
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    summary = models.TextField(_("summary"), blank=True)
    external_ref = models.CharField(
        _("external reference"),
        max_length=100,
        blank=True,
        help_text=_("Call id from telephony, chat id, message id."),
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # From telephony/chat: seconds the client waited in the queue before an operator took
    # the contact (SL and ASA), and after-contact work after it ended (AHT).
    queue_seconds = models.PositiveIntegerField(_("wait in queue, s"), null=True, blank=True)
    wrap_up_seconds = models.PositiveIntegerField(_("after-contact work, s"), null=True, blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["client", "started_at"], name="interaction_client_time"),
            models.Index(fields=["case", "started_at"], name="interaction_case_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"


class MessageVisibility(models.TextChoices):
    INTERNAL = "internal", _("Internal note")
    PUBLIC = "public", _("Reply to client")


class AuthorKind(models.TextChoices):
    STAFF = "staff", _("Staff")
    CLIENT = "client", _("Client")
    SYSTEM = "system", _("System")


class Message(models.Model):
    """Text on a case: an internal note between staff, or a reply the client sees."""

    case = models.ForeignKey(  # indexed by message_case_time, which starts with it
        Case, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author_kind = models.CharField(max_length=8, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    visibility = models.CharField(_("visibility"), max_length=8, choices=MessageVisibility.choices)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="message_case_time")]

    def __str__(self) -> str:
        return self.body[:60]


class EventKind(models.TextChoices):
    CREATED = "created", _("Case opened")
    STATUS_CHANGED = "status_changed", _("Status changed")
    REOPENED = "reopened", _("Case reopened")
    FIELD_CHANGED = "field_changed", _("Field changed")
    MESSAGE_ADDED = "message_added", _("Message added")
    INTERACTION_LINKED = "interaction_linked", _("Contact registered")
    HANDOFF = "handoff", _("Handoff")
    SLA_WARNING = "sla_warning", _("Deadline approaching")
    SLA_BREACH = "sla_breach", _("Deadline missed")
    ACTION = "action", _("Operator action")


class CaseEvent(models.Model):
    """One row per change to a case: who, when, what. Metrics are computed from these."""

    case = models.ForeignKey(  # indexed by event_case_time, which starts with it
        Case, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.CharField(max_length=300, blank=True)
    new_value = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="event_case_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.field}"
