"""What is due in each data class, and what is done with a batch of it.

A source is a query of the rows past their term that still hold what retention removes,
plus the action on a batch of their ids. Because an anonymised row no longer matches
its query (and deleted rows are gone), a run that was stopped or killed is resumed by
simply running again: no progress marker is needed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, Q, QuerySet

from otklik.actions.models import FINAL_CALL_STATUSES, ActionRun, BackofficeCall
from otklik.analytics.models import NpsSurvey
from otklik.audit.models import AuditRecord
from otklik.cases.models import Case, CaseStatus, Interaction
from otklik.chat.models import (
    BotDecision,
    ChatMessage,
    ChatRating,
    Conversation,
    ConversationStatus,
)
from otklik.clients.models import Client, Product, ProductStatus
from otklik.handoffs.models import HandoffAttachment
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox
from otklik.orders.models import Order, OrderSigningCode
from otklik.portal.models import PortalLoginCode
from otklik.relationship.models import ManagerTask, MetricValue
from otklik.retention import anonymise
from otklik.retention.models import AnonymisedClient, RetentionRun
from otklik.retention.policy import Term
from otklik.telephony.models import Call, Callback, CallEvent

ANONYMISED, DELETED = "anonymised", "deleted"


@dataclass
class Context:
    """What a run knows: its clock, and the placeholder client once it exists."""

    now: datetime
    dry_run: bool
    placeholder: int | None = None

    def placeholder_for_write(self) -> int:
        if self.placeholder is None:
            self.placeholder = anonymise.placeholder_get_or_create(self.now)
        return self.placeholder


@dataclass(frozen=True)
class Source:
    """`due(term, ctx)`: rows past their term; `apply(ids, ctx)`: act, return files removed."""

    model: type
    outcome: str  # ANONYMISED or DELETED
    due: Callable[[Term, Context], QuerySet]
    apply: Callable[[list[int], Context], int]


def _not_placeholder(qs: QuerySet, ctx: Context, field: str = "client_id") -> QuerySet:
    return qs if ctx.placeholder is None else qs.exclude(**{field: ctx.placeholder})


def _not_under_open_case(prefix: str = "") -> Q:
    """No case, or a case that is no longer open: an open case is never touched."""
    return Q(**{f"{prefix}case__isnull": True}) | Q(**{f"{prefix}case__is_open": False})


def _delete(model: type) -> Callable[[list[int], Context], int]:
    def apply(ids: list[int], ctx: Context) -> int:
        model.objects.filter(pk__in=ids).delete()
        return 0

    return apply


# --- chats ---------------------------------------------------------------------------


def chats_due(term: Term, ctx: Context) -> QuerySet:
    conversation = OuterRef("pk")
    still_personal = (
        Q(client__isnull=False)
        | Exists(ChatMessage.objects.filter(conversation=conversation))
        | Exists(BotDecision.objects.filter(conversation=conversation).exclude(query=""))
        | Exists(ChatRating.objects.filter(conversation=conversation).exclude(comment=""))
    )
    # A chat that reached a person is mirrored into its case and follows the case's term.
    return Conversation.objects.filter(
        still_personal,
        case__isnull=True,
        status=ConversationStatus.CLOSED,
        closed_at__lt=term.cutoff,
    )


# --- call and contact summaries ------------------------------------------------------


def interactions_due(term: Term, ctx: Context) -> QuerySet:
    """Call and contact summaries past their term, unless their case is still open."""
    due = Interaction.objects.filter(_not_under_open_case(), started_at__lt=term.cutoff)
    return _not_placeholder(due, ctx)


def interactions_apply(ids: list[int], ctx: Context) -> int:
    anonymise.interactions_anonymise(ids, ctx.placeholder_for_write())
    return 0


def calls_due(term: Term, ctx: Context) -> QuerySet:
    """Telephone calls past the summaries' term that still hold a number, recording or
    client, unless their case is still open (a call follows its case)."""
    call = OuterRef("pk")
    still_personal = (
        Q(client__isnull=False)
        | ~Q(number="")
        | ~Q(recording_url="")
        | Exists(CallEvent.objects.filter(call=call).exclude(payload={}))
        | Exists(Callback.objects.filter(call=call).exclude(number=""))
    )
    return Call.objects.filter(still_personal, _not_under_open_case(), started_at__lt=term.cutoff)


# --- NPS surveys ---------------------------------------------------------------------


def surveys_due(term: Term, ctx: Context) -> QuerySet:
    """NPS questions sent before the term: the score stays, the client and comment go."""
    return _not_placeholder(NpsSurvey.objects.filter(sent_at__lt=term.cutoff), ctx)


def surveys_apply(ids: list[int], ctx: Context) -> int:
    anonymise.surveys_anonymise(ids, ctx.placeholder_for_write())
    return 0


# --- files ---------------------------------------------------------------------------


def handoff_files_due(term: Term, ctx: Context) -> QuerySet:
    return HandoffAttachment.objects.filter(
        created_at__lt=term.cutoff, handoff__case__is_open=False
    )


def chat_files_due(term: Term, ctx: Context) -> QuerySet:
    return ChatMessage.objects.filter(
        _not_under_open_case("conversation__"),
        created_at__lt=term.cutoff,
        conversation__status=ConversationStatus.CLOSED,
    ).exclude(attachment="")


# --- closed cases and the clients they free ------------------------------------------


def cases_due(term: Term, ctx: Context) -> QuerySet:
    closed_long_ago = Q(closed_at__lt=term.cutoff) | Q(
        closed_at__isnull=True, updated_at__lt=term.cutoff
    )
    due = Case.objects.filter(closed_long_ago, status=CaseStatus.CLOSED, is_open=False)
    return _not_placeholder(due, ctx)


def cases_apply(ids: list[int], ctx: Context) -> int:
    return anonymise.cases_anonymise(ids, ctx.placeholder_for_write())


def clients_due(term: Term, ctx: Context) -> QuerySet:
    """Clients older than the term that nothing live refers to any more.

    Cases, calls, chats, orders and action runs keep a client (an anonymised case or call
    points at the placeholder instead); so does any product that is not closed, a
    manager's task not done, and figures the bank sent within the term (still a client).
    """
    client = OuterRef("pk")
    referred = [
        Case.objects.filter(client=client),
        Interaction.objects.filter(client=client),
        Call.objects.filter(client=client),
        Callback.objects.filter(client=client),
        Conversation.objects.filter(client=client),
        Order.objects.filter(client=client),
        ActionRun.objects.filter(client=client),
        Product.objects.filter(client=client).exclude(status=ProductStatus.CLOSED),
        AnonymisedClient.objects.filter(client=client),
        ManagerTask.objects.filter(client=client, done_at__isnull=True),
        MetricValue.objects.filter(client=client, updated_at__gte=term.cutoff),
    ]
    due = Client.objects.filter(created_at__lt=term.cutoff)
    for query in referred:
        due = due.filter(~Exists(query))
    return due


def clients_apply(ids: list[int], ctx: Context) -> int:
    anonymise.clients_anonymise(ids, ctx.placeholder_for_write(), ctx.now)
    return 0


# --- plain deletions -----------------------------------------------------------------


def sessions_due(term: Term, ctx: Context) -> QuerySet:
    """Expired sessions, when sessions live in the database (the default engine)."""
    if not settings.SESSION_ENGINE.startswith(
        ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")
    ):
        return Session.objects.none()
    return Session.objects.filter(expire_date__lt=term.cutoff)


def signing_codes_due(term: Term, ctx: Context) -> QuerySet:
    """Expired signing codes, except the one a signed order names as its signature."""
    used_in_signature = Order.objects.filter(signature_code=OuterRef("pk"))
    return OrderSigningCode.objects.filter(~Exists(used_in_signature), expires_at__lt=term.cutoff)


SOURCES: dict[str, list[Source]] = {
    "chats": [
        Source(
            Conversation,
            ANONYMISED,
            chats_due,
            lambda ids, ctx: anonymise.chats_anonymise(ids),
        )
    ],
    "interactions": [
        Source(Interaction, ANONYMISED, interactions_due, interactions_apply),
        Source(Call, ANONYMISED, calls_due, lambda ids, ctx: anonymise.calls_anonymise(ids) or 0),
    ],
    "attachments": [
        Source(
            HandoffAttachment,
            DELETED,
            handoff_files_due,
            lambda ids, ctx: anonymise.handoff_files_remove(ids),
        ),
        Source(
            ChatMessage,
            DELETED,
            chat_files_due,
            lambda ids, ctx: anonymise.chat_files_remove(ids),
        ),
    ],
    "closed_cases": [Source(Case, ANONYMISED, cases_due, cases_apply)],
    "surveys": [Source(NpsSurvey, ANONYMISED, surveys_due, surveys_apply)],
    "clients": [Source(Client, ANONYMISED, clients_due, clients_apply)],
    "outbox": [
        Source(
            Outbox,
            DELETED,
            lambda term, ctx: Outbox.objects.filter(
                status__in=anonymise.FINAL_OUTBOX, created_at__lt=term.cutoff
            ),
            _delete(Outbox),
        )
    ],
    "backoffice_calls": [
        Source(
            BackofficeCall,
            DELETED,
            lambda term, ctx: BackofficeCall.objects.filter(
                status__in=FINAL_CALL_STATUSES, created_at__lt=term.cutoff
            ),
            _delete(BackofficeCall),
        )
    ],
    "one_time_codes": [
        Source(
            PortalLoginCode,
            DELETED,
            lambda term, ctx: PortalLoginCode.objects.filter(expires_at__lt=term.cutoff),
            _delete(PortalLoginCode),
        ),
        Source(OrderSigningCode, DELETED, signing_codes_due, _delete(OrderSigningCode)),
    ],
    "sessions": [Source(Session, DELETED, sessions_due, _delete(Session))],
    "live_events": [
        Source(
            LiveEvent,
            DELETED,
            lambda term, ctx: LiveEvent.objects.filter(created_at__lt=term.cutoff),
            _delete(LiveEvent),
        )
    ],
    "audit": [
        Source(
            AuditRecord,
            DELETED,
            lambda term, ctx: AuditRecord.objects.filter(created_at__lt=term.cutoff),
            _delete(AuditRecord),
        ),
        # The run log is kept as long as the audit log it summarises.
        Source(
            RetentionRun,
            DELETED,
            lambda term, ctx: RetentionRun.objects.filter(started_at__lt=term.cutoff),
            _delete(RetentionRun),
        ),
    ],
}
