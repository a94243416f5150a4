"""Reads of the client portal. Every read takes the logged-in client and stays inside it.

A case, message or rating of another client is simply not found (404): the portal never
says "forbidden", so ids of other clients' cases cannot be probed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BigIntegerField, Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from otklik.accounts.models import User
from otklik.cases.models import AuthorKind, Case, CaseStatus, Message, MessageVisibility, Topic
from otklik.cases.selectors import topic_list_for_client_lines
from otklik.clients.models import ChannelKind, Client
from otklik.clients.selectors import client_business_lines, client_contact_list
from otklik.clients.serving import Serving, serving_now
from otklik.notifications.models import Outbox
from otklik.portal.models import CsiRating, PortalAnswer, PortalCaseRead

# Case statuses in the client's words (the operator's «Ждёт подразделения» means nothing
# to a client).
CLIENT_STATUS = {
    CaseStatus.NEW: _("Received"),
    CaseStatus.IN_PROGRESS: _("In progress"),
    CaseStatus.WAITING_DEPARTMENT: _("Preparing the answer"),
    CaseStatus.WAITING_CLIENT: _("Waiting for your reply"),
    CaseStatus.ANSWERED: _("Answer ready"),
    CaseStatus.RESOLVED: _("Resolved"),
    CaseStatus.CLOSED: _("Closed"),
}


# History rows the portal writes on a case (CaseEvent kind "field_changed"), in words.
def client_status_label(status: str) -> str:
    return str(CLIENT_STATUS.get(status, status))


def portal_client_get(*, client_id: int | None) -> Client | None:
    """The client a portal session belongs to (None if it is gone)."""
    if not client_id:
        return None
    return Client.objects.filter(pk=client_id).first()


def portal_serving(*, client: Client) -> Serving | None:
    """Who serves the logged-in client now, for the line under the portal's header: his
    personal manager, or the colleague standing in while the manager is away."""
    return serving_now(client=client)


def _answers_q(prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}visibility": MessageVisibility.PUBLIC,
            f"{prefix}author_kind__in": (AuthorKind.STAFF, AuthorKind.SYSTEM),
        }
    )


def _seen_live_q(prefix: str = "") -> Q:
    """Answers the client already read where they were given: in the web chat (the bot's and
    the operator's replies mirrored to the case). They are not new in the portal: one chat
    must not light up «Мои обращения 10»."""
    return Q(**{f"{prefix}interaction__channel": ChannelKind.CHAT})


def portal_cases(*, client: Client, limit: int = 100) -> list[Case]:
    """The client's cases, latest activity first, each with its `unread` answers counted."""
    read_upto = PortalCaseRead.objects.filter(client=client, case=OuterRef("pk")).values(
        "last_read_message_id"
    )[:1]
    cases = (
        Case.objects.filter(client=client)
        .select_related("topic")
        .annotate(read_upto=Coalesce(Subquery(read_upto), Value(0), output_field=BigIntegerField()))
        .annotate(
            unread=Count(
                "messages",
                filter=_answers_q("messages__")
                & Q(messages__id__gt=F("read_upto"))
                & ~_seen_live_q("messages__"),
            )
        )
        .order_by("-updated_at", "-pk")[:limit]
    )
    return list(cases)


def portal_unread_total(*, client: Client) -> int:
    """Unread answers over all the client's cases (the badge in the portal header)."""
    return sum(case.unread for case in portal_cases(client=client))


def portal_case_get(*, client: Client, case_id: int) -> Case:
    """The client's own case, or 404 (also for another client's case)."""
    case = Case.objects.filter(client=client, pk=case_id).select_related("topic", "client").first()
    if case is None:
        raise Http404("case not found")
    return case


@dataclass
class PortalMessage:
    """A message as the client sees it: who wrote it in the client's terms, and its state."""

    message: Message
    mine: bool
    author_name: str
    unread: bool
    is_portal_answer: bool
    rateable: bool
    rating: CsiRating | None


def _staff_first_name(user: User | None) -> str:
    if user is None or not (user.first_name or "").strip():
        return str(_("Support team"))
    return user.first_name.strip()


def portal_case_messages(*, client: Client, case: Case) -> list[PortalMessage]:
    """Public messages of the client's own case, oldest first. Internal notes never."""
    if case.client_id != client.pk:
        raise Http404("case not found")
    mark = PortalCaseRead.objects.filter(client=client, case=case).first()
    read_upto = mark.last_read_message_id if mark else 0
    messages = (
        Message.objects.filter(case=case, visibility=MessageVisibility.PUBLIC)
        .select_related("author", "interaction")
        .order_by("created_at", "id")
    )
    ratings = {r.message_id: r for r in CsiRating.objects.filter(case=case)}
    answers = set(PortalAnswer.objects.filter(case=case).values_list("message_id", flat=True))
    result = []
    for message in messages:
        mine = message.author_kind == AuthorKind.CLIENT
        result.append(
            PortalMessage(
                message=message,
                mine=mine,
                author_name=str(_("You")) if mine else _staff_first_name(message.author),
                unread=not mine
                and message.pk > read_upto
                and not (message.interaction and message.interaction.channel == ChannelKind.CHAT),
                is_portal_answer=message.pk in answers,
                rateable=message.author_kind == AuthorKind.STAFF,
                rating=ratings.get(message.pk),
            )
        )
    return result


def portal_message_get(*, client: Client, case: Case, message_id: int) -> Message:
    """A public message of the client's own case, or 404."""
    message = Message.objects.filter(
        pk=message_id,
        case=case,
        case__client=client,
        visibility=MessageVisibility.PUBLIC,
    ).first()
    if message is None:
        raise Http404("message not found")
    return message


def portal_case_deadline(*, case: Case):
    """The running portal answer deadline of a case (for "answer awaited by ..."), or None."""
    from otklik.sla.selectors import deadline_open_for

    return deadline_open_for(case=case, kind="portal_answer")


def portal_notifications(*, client: Client, limit: int = 50) -> list[Outbox]:
    """What we sent the client by e-mail, SMS and push. Login codes are left out."""
    return list(
        Outbox.objects.filter(client=client, channel__in=("email", "sms", "push"))
        .exclude(key__startswith="portal-login-code:")
        .order_by("-created_at", "-id")[:limit]
    )


def portal_topics(*, client: Client) -> QuerySet[Topic]:
    """Topics a client may choose for a new request: visible ones of their business lines."""
    return topic_list_for_client_lines(lines=client_business_lines(client=client))


def portal_topic_get(*, client: Client, topic_id: int | None) -> Topic | None:
    if not topic_id:
        return None
    return portal_topics(client=client).filter(pk=topic_id).first()


# --- staff side ----------------------------------------------------------------------------


@dataclass
class PortalPanel:
    """What the case page shows about the portal answer standard."""

    deadline: object | None
    remaining: str
    answers: list[PortalAnswer]
    client_has_contact: bool


def portal_panel(*, case: Case, now: datetime | None = None) -> PortalPanel:
    from otklik.sla.selectors import remaining_label

    deadline = portal_case_deadline(case=case)
    return PortalPanel(
        deadline=deadline,
        remaining=remaining_label(deadline, now=now) if deadline else "",
        answers=list(
            PortalAnswer.objects.filter(case=case).select_related("message").order_by("posted_at")
        ),
        client_has_contact=any(
            c.kind in ("phone", "email") for c in client_contact_list(client=case.client)
        ),
    )


@dataclass
class PortalStats:
    since: datetime
    until: datetime
    sent: int
    on_time: int
    late: int
    share_on_time: float | None
    ratings: int
    csi_average: float | None
    waiting: int
    overdue: int


def portal_answer_stats(*, days: int = 30, now: datetime | None = None) -> PortalStats:
    """Portal answers sent in the last `days` and the share on time (from the SLA clocks),
    the CSI of rated answers, and how many promised answers are still awaited."""
    from django.db.models import Avg

    from otklik.sla import selectors as sla
    from otklik.sla.models import Deadline

    until = now or timezone.now()
    since = until - timedelta(days=days)
    counts = sla.portal_answer_stats(since=since, until=until)
    csi = CsiRating.objects.filter(created_at__gte=since, created_at__lt=until).aggregate(
        n=Count("id"), avg=Avg("score")
    )
    running = Deadline.objects.filter(
        kind="portal_answer", met_at__isnull=True, cancelled_at__isnull=True
    )
    return PortalStats(
        since=since,
        until=until,
        sent=counts["sent"],
        on_time=counts["on_time"],
        late=counts["sent"] - counts["on_time"],
        share_on_time=counts["share_on_time"],
        ratings=csi["n"],
        csi_average=float(csi["avg"]) if csi["avg"] is not None else None,
        waiting=running.count(),
        overdue=running.filter(due_at__lt=until).count(),
    )
