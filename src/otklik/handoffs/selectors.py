"""Reads about handoffs. Who may see, work or steer a handoff is decided here, once."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Department, Role, User
from otklik.cases.models import Case, Interaction
from otklik.cases.selectors import can_edit_case, case_visible_to, cases_visible_q
from otklik.clients.models import ChannelKind, Client, ContactPoint
from otklik.clients.selectors import client_contact_list
from otklik.common.memo import memoized
from otklik.handoffs.models import (
    CaseWatch,
    Handoff,
    HandoffAttachment,
    HandoffEvent,
    HandoffStatus,
)
from otklik.presence.selectors import user_present
from otklik.presence.services import presence_scope

HANDOFF_ANSWER = "handoff_answer"
ACTIVE_STATUSES = (HandoffStatus.OPEN, HandoffStatus.IN_WORK, HandoffStatus.QUESTION)
QUEUE_LIMIT = 200
#: An interaction nobody closed for this long is not "live" any more (a lost hang-up).
LIVE_CHANNEL_MAX_AGE = timedelta(hours=12)


def _is_specialist(user: User) -> bool:
    return user.role == Role.SPECIALIST and not user.is_superuser


def handoffs_visible_q(user: User) -> Q:
    """Specialists see their department's handoffs only; others those of cases they see."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.sees_everything:
        return Q()
    if _is_specialist(user):
        if user.department_id is None:
            return Q(pk__in=[])
        return Q(department_id=user.department_id)
    # Correlated (EXISTS by the case's key), not `case__in` a subquery: SQLite would
    # materialise every case of the team (tens of thousands) to show one case's handoffs.
    return Q(Exists(Case.objects.filter(cases_visible_q(user), pk=OuterRef("case_id"))))


def _open_deadlines() -> Prefetch:
    from otklik.sla.models import Deadline

    return Prefetch(
        "deadlines",
        queryset=Deadline.objects.filter(
            kind=HANDOFF_ANSWER, met_at__isnull=True, cancelled_at__isnull=True
        ),
        to_attr="open_deadlines",
    )


def handoff_get_for_user(*, user: User, handoff_id: int) -> Handoff:
    """The handoff if `user` may see it, else 404 (another department's id looks absent)."""
    handoff = (
        Handoff.objects.filter(handoffs_visible_q(user), pk=handoff_id)
        .select_related(
            "case",
            "case__client",
            "case__owner",
            "case__team",
            "department",
            "assignee",
            "created_by",
        )
        .first()
    )
    if handoff is None:
        raise Http404("handoff not found")
    return handoff


def can_work_handoff(*, user: User, handoff: Handoff) -> bool:
    """Take, ask the owner, answer: the department's specialists, or a supervisor."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.sees_everything:
        return True
    return user.role == Role.SPECIALIST and user.department_id == handoff.department_id


def is_watching(*, user: User, case: Case) -> bool:
    return any(w.pk == user.pk for w in case_watchers(case=case))


def can_watch_case(*, user: User, case: Case) -> bool:
    """Anyone who works the case (not a department specialist) may take it on control."""
    if not user.is_authenticated or not user.is_active or not can_edit_case(user=user, case=case):
        return False
    return case_visible_to(user=user, case=case)


def can_control_case(*, user: User, case: Case) -> bool:
    """Send, cancel, reply to the department: the owner, a watcher, the case's team."""
    if not can_watch_case(user=user, case=case):
        return False
    if user.sees_everything or case.owner_id == user.pk:
        return True
    if user.team_id is not None and user.team_id == case.team_id:
        return True
    return is_watching(user=user, case=case)


def case_watcher_ids(*, case: Case) -> list[int]:
    return list(CaseWatch.objects.filter(case=case).values_list("user_id", flat=True))


def case_watchers(*, case: Case) -> list[User]:
    """Who has the case on control, read once per page (the panel asks several times)."""
    return memoized(
        case,
        "watchers",
        lambda: [
            w.user
            for w in CaseWatch.objects.filter(case=case)
            .select_related("user")
            .order_by("created_at")
        ],
    )


def department_list() -> QuerySet[Department]:
    """Departments a case owner may send a question to (administrators keep the list)."""
    return Department.objects.order_by("name")


# --- time left -------------------------------------------------------------------------


@dataclass
class HandoffRow:
    """A handoff with its clock, as lists and banners show it."""

    handoff: Handoff
    remaining: str = ""
    overdue: bool = False
    due_at: datetime | None = None
    pending: HandoffEvent | None = None


def handoff_row(handoff: Handoff, now: datetime) -> HandoffRow:
    from otklik.sla.selectors import remaining_label

    deadlines = getattr(handoff, "open_deadlines", None)
    if deadlines is None:
        deadlines = list(
            handoff.deadlines.filter(
                kind=HANDOFF_ANSWER, met_at__isnull=True, cancelled_at__isnull=True
            )
        )
    row = HandoffRow(handoff=handoff, due_at=handoff.due_at)
    if handoff.status in ACTIVE_STATUSES and deadlines:
        deadline = deadlines[0]
        row.due_at = deadline.due_at
        row.remaining = remaining_label(deadline, now=now)
        row.overdue = deadline.paused_at is None and deadline.due_at < now
    elif handoff.status in ACTIVE_STATUSES and handoff.due_at is not None:
        row.overdue = handoff.due_at < now
    return row


QUEUE_STATUSES = ("active", "mine", *HandoffStatus.values, "all")


def department_queue(
    *, user: User, status: str = "active", now: datetime | None = None
) -> list[HandoffRow]:
    """The department's handoffs with time left, overdue first, then by due time.

    Specialists see only their own department's; supervisors every department's; other
    staff have no department queue.
    """
    now = now or timezone.now()
    if not user.is_authenticated or not user.is_active:
        return []
    if _is_specialist(user):
        if user.department_id is None:
            return []
        qs = Handoff.objects.filter(department_id=user.department_id)
    elif user.sees_everything:
        qs = Handoff.objects.all()
    else:
        return []
    if status == "active":
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    elif status == "mine":
        qs = qs.filter(status__in=ACTIVE_STATUSES, assignee=user)
    elif status in HandoffStatus.values:
        qs = qs.filter(status=status)
    qs = qs.select_related("case", "case__client", "case__owner", "department", "assignee")
    qs = qs.prefetch_related(_open_deadlines())
    if status in ("answered", "cancelled", "all"):
        qs = qs.order_by("-created_at", "-id")
    else:
        qs = qs.order_by("due_at", "created_at", "id")
    rows = [handoff_row(h, now) for h in qs[:QUEUE_LIMIT]]
    if status not in ("answered", "cancelled", "all"):
        far = now + timedelta(days=3650)
        rows.sort(key=lambda r: (not r.overdue, r.due_at or far, r.handoff.pk))
    return rows


def case_handoffs(*, user: User, case: Case, now: datetime | None = None) -> list[HandoffRow]:
    """The case's handoffs `user` may see (a specialist: their department's), newest first.

    Read once per page and user when `now` is not given: the banner and the panel show
    the same rows.
    """
    if now is None:
        return memoized(
            case, ("handoffs", user.pk), lambda: _case_handoffs(user, case, timezone.now())
        )
    return _case_handoffs(user, case, now)


def _case_handoffs(user: User, case: Case, now: datetime) -> list[HandoffRow]:
    qs = (
        Handoff.objects.filter(handoffs_visible_q(user), case=case)
        .select_related("department", "assignee", "created_by")
        .prefetch_related(_open_deadlines(), "events", "attachments")
        .order_by("-created_at", "-id")
    )
    rows = [handoff_row(h, now) for h in qs[:50]]
    for row in rows:
        if row.handoff.status == HandoffStatus.QUESTION:
            questions = [e for e in row.handoff.events.all() if e.kind == "question"]
            row.pending = questions[-1] if questions else None
    return rows


def case_waiting_on(*, user: User, case: Case, now: datetime | None = None) -> list[HandoffRow]:
    """The handoffs the case still waits for, for the banner on the case page."""
    return [r for r in case_handoffs(user=user, case=case, now=now) if r.handoff.is_active]


def handoff_history(*, handoff: Handoff) -> list[HandoffEvent]:
    return list(
        handoff.events.select_related("actor")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def handoff_attachment_get(*, handoff: Handoff, attachment_id: int) -> HandoffAttachment:
    """An attachment of a handoff the caller already fetched with `handoff_get_for_user`."""
    attachment = HandoffAttachment.objects.filter(handoff=handoff, pk=attachment_id).first()
    if attachment is None:
        raise Http404("attachment not found")
    return attachment


def pending_question(*, handoff: Handoff) -> HandoffEvent | None:
    """The specialist's open question to the owner, if the handoff waits for a reply."""
    if handoff.status != HandoffStatus.QUESTION:
        return None
    return handoff.events.filter(kind="question").order_by("-created_at", "-id").first()


# --- reachability and the live channel -------------------------------------------------


#: How many unended contacts are looked at to find the one still live.
LIVE_CHANNEL_CANDIDATES = 5


def client_live_channel(*, client: Client, now: datetime | None = None) -> Interaction | None:
    """The contact the client is on right now (a chat, a call), most recent first.

    A chat is live until the chat closes it. A call or visit registered by an operator has
    no end the system hears of, so it counts as live only while that operator still has
    the case or the client's card open (presence, expiring within seconds of the tab
    closing); an hour later it is not «on a call since 09:23» any more. A contact without
    an operator (registered through the API) keeps the age limit alone.
    """
    now = now or timezone.now()
    candidates = (
        Interaction.objects.filter(
            client=client, ended_at__isnull=True, started_at__gte=now - LIVE_CHANNEL_MAX_AGE
        )
        .select_related("operator", "case")
        .order_by("-started_at", "-id")[:LIVE_CHANNEL_CANDIDATES]
    )
    for interaction in candidates:
        if interaction.channel == ChannelKind.CHAT or interaction.operator_id is None:
            return interaction
        scopes = [presence_scope("client", client.pk)]
        if interaction.case_id is not None:
            scopes.append(presence_scope("case", interaction.case_id))
        if user_present(user_id=interaction.operator_id, scopes=scopes):
            return interaction
    return None


def live_channel_label(interaction: Interaction, now: datetime | None = None) -> str:
    """«в чате с оператором Ирина Смирнова с 14:02» (with the date if not today)."""
    now = now or timezone.now()
    started = timezone.localtime(interaction.started_at)
    if started.date() == timezone.localtime(now).date():
        time = started.strftime("%H:%M")
    else:
        time = started.strftime("%d.%m %H:%M")
    name = interaction.operator.display_name if interaction.operator else "—"
    params = {"name": name, "time": time, "channel": interaction.get_channel_display()}
    if interaction.channel == ChannelKind.CHAT:
        return _("in chat with operator %(name)s since %(time)s") % params
    if interaction.channel == ChannelKind.PHONE:
        return _("on a call with operator %(name)s since %(time)s") % params
    if interaction.channel == ChannelKind.MESSENGER:
        return _("in a messenger with operator %(name)s since %(time)s") % params
    return _("%(channel)s with operator %(name)s since %(time)s") % params


@dataclass
class ClientReach:
    """How the client can and cannot be reached now, for whoever answers them."""

    client: Client
    contacts: list[ContactPoint] = field(default_factory=list)
    live: Interaction | None = None
    live_label: str = ""
    live_case_reference: str = ""  # empty when the viewer may not open that case

    @property
    def has_limits(self) -> bool:
        return any(c.reachability != "reachable" for c in self.contacts)


def client_reachability(*, client: Client, user: User, now: datetime | None = None) -> ClientReach:
    """Contacts and the live channel; the live contact's case is named only to those who may
    open it (that the client is on a call is reachability; which case it is about is not)."""
    live = client_live_channel(client=client, now=now)
    reference = ""
    if live is not None and live.case_id is not None and case_visible_to(user=user, case=live.case):
        reference = live.case.reference
    return ClientReach(
        client=client,
        contacts=client_contact_list(client=client),
        live=live,
        live_label=live_channel_label(live, now) if live else "",
        live_case_reference=reference,
    )
