"""Live chat: conversations with a visitor, their numbered messages, the bot's decisions.

Every message gets a server id and a per-conversation sequence number (`seq`, 1, 2, 3…)
assigned under a conditional update of `Conversation.last_seq`, so a reconnecting widget or
operator tab asks for "after seq N" and receives exactly what it missed. A resend carries
the same client-side id and is stored once (unique per conversation and sender side).
"""

import hashlib
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def hash_token(raw: str) -> str:
    return hashlib.sha256((raw or "").encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh visitor token and its hash; only the hash is stored."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


class ConversationStatus(models.TextChoices):
    BOT = "bot", _("With the bot")
    QUEUED = "queued", _("Waiting for an operator")
    ASSIGNED = "assigned", _("With an operator")
    CLOSED = "closed", pgettext_lazy("chat", "Closed")


class ChatTopic(models.Model):
    """A chat topic the bot recognises by keywords; human-only topics skip the bot."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    keywords = models.TextField(
        _("keywords"),
        help_text=_("Words or word stems, one per line, e.g. «заблокир», «за границей»."),
    )
    topic = models.ForeignKey(
        "cases.Topic",
        verbose_name=_("case topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    human_only = models.BooleanField(
        _("human only"), default=False, help_text=_("The bot hands such chats to a person.")
    )

    class Meta:
        verbose_name = _("chat topic")
        verbose_name_plural = _("chat topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.splitlines() if k.strip()]


class Conversation(models.Model):
    """One chat with a visitor: bot first, then the queue, an operator, and the close."""

    visitor_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="chats",
    )
    client_is_guest = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("The client record was made for an anonymous visitor at hand-off."),
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
    )
    interaction = models.ForeignKey(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ConversationStatus.choices,
        default=ConversationStatus.BOT,
    )
    chat_topic = models.ForeignKey(
        ChatTopic,
        verbose_name=_("topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
    )
    departments = models.ManyToManyField(
        "accounts.Department",
        verbose_name=_("invited departments"),
        blank=True,
        related_name="chats",
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited specialists"),
        blank=True,
        related_name="chat_participations",
    )
    origin = models.CharField(_("site"), max_length=200, blank=True)
    handoff_reason = models.CharField(_("hand-off reason"), max_length=40, blank=True)
    last_seq = models.PositiveIntegerField(default=0, editable=False)
    unhelpful_count = models.PositiveSmallIntegerField(default=0, editable=False)
    visitor_read_seq = models.PositiveIntegerField(default=0, editable=False)
    staff_read_seq = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("started"), db_index=True)
    queued_at = models.DateTimeField(pgettext_lazy("chat", "queued"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_operator_reply_at = models.DateTimeField(_("first answer"), null=True, blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("chat", "closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "queued_at"], name="chat_status_queued"),
            models.Index(fields=["operator", "status"], name="chat_operator_status"),
        ]

    def __str__(self) -> str:
        return f"{_('Chat')} №{self.pk}"

    @property
    def handoff_reason_label(self) -> str:
        return str(dict(BotDecisionKind.choices).get(self.handoff_reason, self.handoff_reason))


class VisitorDevice(models.Model):
    """A further visitor token for one chat: the client resumed it on another device.

    The portal client who opens the chat while a conversation is open gets that
    conversation back (with its history) instead of a new one; each device holds its own
    token, so signing out on one does not cut the others off.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="devices")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("chat device")
        verbose_name_plural = _("chat devices")

    def __str__(self) -> str:
        return f"{self.conversation} / {self.pk}"


class SenderKind(models.TextChoices):
    VISITOR = "visitor", _("Client")
    BOT = "bot", _("Bot")
    OPERATOR = "operator", _("Operator")
    SPECIALIST = "specialist", _("Specialist")
    SYSTEM = "system", _("System")


def attachment_path(instance: "ChatMessage", filename: str) -> str:
    """A random stored name: the visitor's file name is never part of a path."""
    ext = filename.rpartition(".")[2].lower() if "." in filename else "bin"
    return f"chat/{instance.conversation_id}/{secrets.token_hex(16)}.{ext}"


class ChatMessage(models.Model):
    """One message of a chat, numbered within it; internal ones only staff see."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    client_msg_id = models.CharField(max_length=64, blank=True)
    sender_kind = models.CharField(max_length=12, choices=SenderKind.choices)
    sender_side = models.CharField(max_length=8, editable=False)  # visitor | staff
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("text"), blank=True)
    internal = models.BooleanField(default=False)
    payload = models.JSONField(default=dict, blank=True)
    attachment = models.FileField(upload_to=attachment_path, blank=True)
    attachment_name = models.CharField(max_length=120, blank=True)
    attachment_type = models.CharField(max_length=60, blank=True)
    attachment_size = models.PositiveIntegerField(default=0)
    case_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="chat_message_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender_side", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="chat_message_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class BotDecisionKind(models.TextChoices):
    ANSWER = "answer", pgettext_lazy("chat", "Answered")
    ALTERNATIVES = "alternatives", _("Offered alternatives")
    HANDOFF_REQUEST = "handoff_request", _("Client asked for a person")
    HANDOFF_LOW_CONFIDENCE = "handoff_low_confidence", _("Low confidence")
    HANDOFF_UNHELPFUL = "handoff_unhelpful", _("Two unhelpful answers")
    HANDOFF_TOPIC = "handoff_topic", _("Human-only topic")
    FEEDBACK = "feedback", _("Client feedback")


HANDOFF_DECISIONS = (
    BotDecisionKind.HANDOFF_REQUEST,
    BotDecisionKind.HANDOFF_LOW_CONFIDENCE,
    BotDecisionKind.HANDOFF_UNHELPFUL,
    BotDecisionKind.HANDOFF_TOPIC,
)


class BotDecision(models.Model):
    """Why the bot answered what it answered: query, candidates with scores, decision."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="bot_decisions"
    )
    message = models.ForeignKey(
        ChatMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    query = models.TextField(_("query"))
    candidates = models.JSONField(default=list, blank=True)
    top_score = models.FloatField(default=0)
    decision = models.CharField(_("decision"), max_length=24, choices=BotDecisionKind.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    article_slug = models.CharField(max_length=200, blank=True)
    helpful = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("bot decision")
        verbose_name_plural = _("bot decisions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.decision}: {self.query[:60]}"

    def explanation(self) -> str:
        """Why, in the reader's language. `reason` stays the log line written at the time
        (English, for editors' exports); this is built from the stored decision and scores."""
        from django.utils.translation import gettext

        scores = [c.get("score", 0.0) for c in self.candidates or [] if isinstance(c, dict)]
        top = scores[0] if scores else self.top_score
        second = scores[1] if len(scores) > 1 else 0.0
        kind = BotDecisionKind
        if self.decision == kind.HANDOFF_REQUEST:
            return gettext("The client asked for a person.")
        if self.decision == kind.HANDOFF_TOPIC:
            topic = self.reason.partition("«")[2].partition("»")[0]
            return gettext("Topic «%(topic)s» is answered by people only.") % {"topic": topic}
        if self.decision == kind.HANDOFF_UNHELPFUL:
            return gettext("Two answers in a row did not help the client.")
        if self.decision == kind.HANDOFF_LOW_CONFIDENCE:
            return gettext("Best match scored %(top).2f, below the bot's confidence threshold.") % {
                "top": top
            }
        if self.decision == kind.ANSWER:
            message = gettext("Best match %(top).2f, clearly ahead of the next one (%(second).2f).")
            return message % {"top": top, "second": second}
        if self.decision == kind.ALTERNATIVES and "below the answer threshold" in self.reason:
            return gettext(
                "Best match %(top).2f is not sure enough for an answer: "
                "the client was offered the choice."
            ) % {"top": top}
        if self.decision == kind.ALTERNATIVES:
            return gettext(
                "Best match %(top).2f is close to the next one (%(second).2f): "
                "the client was offered the choice."
            ) % {"top": top, "second": second}
        return self.reason


class OperatorChatSettings(models.Model):
    """How many chats an operator takes at once and which topics they know."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_settings"
    )
    capacity = models.PositiveSmallIntegerField(
        _("max concurrent chats"), default=3, validators=[MaxValueValidator(20)]
    )
    topics = models.ManyToManyField(
        ChatTopic,
        verbose_name=_("skills"),
        blank=True,
        help_text=_("Empty: any topic."),
        related_name="operators",
    )
    accepting = models.BooleanField(_("accepting chats"), default=False)
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("operator chat settings")
        verbose_name_plural = _("operator chat settings")

    def __str__(self) -> str:
        return str(self.user)


class ChatRating(models.Model):
    """The client's CSI for a chat: 1–5 and an optional comment."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="rating"
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("chat rating")
        verbose_name_plural = _("chat ratings")

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.score}"
