"""Reads about cases. Visibility is decided here, once, for views and the API alike."""

import copy
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.audit.spool import audit_read_record
from otklik.cases.labels import RUN_MARKER_PREFIX
from otklik.cases.models import Case, CaseEvent, EventKind, Interaction, Message, Topic
from otklik.clients.models import Client, ContactPoint
from otklik.clients.selectors import (
    ProductView,
    client_contact_list,
    client_get_for_user,
    client_products,
)
from otklik.common import generations
from otklik.common.memo import memoized, remember


def cases_visible_q(user: User, *, via: str = "") -> Q:
    """Which cases `user` may see.

    Supervisors and admins see all; operators their team's cases and their own; personal
    managers also their clients' cases; department specialists only the cases handed to
    their department. `via` is the path from another model to its case (e.g. "case" on
    an interaction), so the same rule filters what is attached to cases.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.sees_everything:
        return Q()
    prefix = f"{via}__" if via else ""
    if user.role == Role.SPECIALIST:
        from otklik.handoffs.models import Handoff

        if user.department_id is None:
            return Q(pk__in=[])
        handed = Handoff.objects.filter(
            case=OuterRef(via or "pk"), department_id=user.department_id
        )
        return Q(Exists(handed))
    visible = Q(**{f"{prefix}owner": user})
    if user.team_id is not None:
        visible |= Q(**{f"{prefix}team_id": user.team_id})
    if user.role == Role.PERSONAL_MANAGER:
        visible |= Q(**{f"{prefix}client__personal_manager": user})
        # Seam (docs/architecture.md): a deputy sees the cases of the book he covers.
        from otklik.relationship.selectors import visible_clients_q_for_deputy

        visible |= visible_clients_q_for_deputy(user, prefix=prefix)
    return visible


def attached_visible_q(user: User, *, via: str = "case") -> Q:
    """What is attached to a case (a call summary, a note, an order) is visible exactly
    when its case is; what is attached to no case follows its client, which the caller
    has already checked."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.sees_everything:
        return Q()
    return Q(**{f"{via}__isnull": True}) | cases_visible_q(user, via=via)


def case_get_for_user(*, user: User, case_id: int) -> Case:
    """Return the case if `user` may see it, else raise 404."""
    case = (
        Case.objects.filter(cases_visible_q(user), pk=case_id)
        .select_related("client", "topic", "team", "owner")
        .first()
    )
    if case is None:
        raise Http404("case not found")
    remember(case, ("visible_to", user.pk), True)
    return case


def case_get_viewed(*, request, case_id: int, via: str) -> Case:
    """`case_get_for_user` for a page or fragment that shows the case to `request.user`:
    the read is audited (spooled, see `audit.spool`), as every view of a client's data is."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    audit_read_record(
        actor=request.user,
        action="case.view",
        via=via,
        client_id=case.client_id,
        obj=case,
        request=request,
    )
    return case


def case_visible_to(*, user: User, case: Case) -> bool:
    """Whether `user` may see `case`; free for a case fetched with `case_get_for_user`."""
    return memoized(
        case,
        ("visible_to", user.pk),
        lambda: Case.objects.filter(cases_visible_q(user), pk=case.pk).exists(),
    )


def can_open_cases(*, user: User) -> bool:
    """Front-line staff open cases; specialists answer what is handed to their department
    (a case a specialist opened would have no owner and no team, and he could not see it)."""
    return user.role != Role.SPECIALIST or user.is_superuser


def can_edit_case(*, user: User, case: Case) -> bool:
    """Specialists answer through handoffs; everybody else who sees a case may work it."""
    return can_open_cases(user=user)


SORTS = {
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "priority": ("-priority", "created_at", "id"),
    "due": ("due_at", "id"),
}


@dataclass(frozen=True)
class QueueFilters:
    """What the operator asked the queue for. Empty values mean "any"."""

    scope: str = "team"  # mine | team | all
    status: str = "open"  # open | any | <CaseStatus>
    channel: str = ""
    topic_id: int | None = None
    client_id: int | None = None
    overdue: bool = False
    sort: str = "oldest"


def case_queue(*, user: User, filters: QueueFilters, now: datetime | None = None) -> QuerySet[Case]:
    """The operator's queue as a query (callers slice it; never counted over all cases)."""
    now = now or timezone.now()
    qs = Case.objects.filter(cases_visible_q(user))
    if filters.scope == "mine":
        qs = qs.filter(owner=user)
    elif filters.scope == "team":
        qs = qs.filter(team_id=user.team_id) if user.team_id else qs.filter(owner=user)
    if filters.status == "open":
        qs = qs.filter(is_open=True)
    elif filters.status and filters.status != "any":
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.topic_id:
        qs = qs.filter(topic_id=filters.topic_id)
    if filters.client_id:
        qs = qs.filter(client_id=filters.client_id)
    if filters.overdue:
        qs = qs.filter(is_open=True, due_at__lt=now)
    order = SORTS.get(filters.sort, SORTS["oldest"])
    return qs.select_related("client", "topic", "owner", "team").order_by(*order)


def page_of(qs: QuerySet, *, page: int, size: int) -> tuple[list, bool]:
    """One page plus whether another follows, without COUNT(*) over a million rows."""
    page = max(page, 1)
    start = (page - 1) * size
    rows = list(qs[start : start + size + 1])
    return rows[:size], len(rows) > size


def cases_open_for_client(*, user: User, client: Client) -> list[Case]:
    return list(
        Case.objects.filter(cases_visible_q(user), client=client, is_open=True)
        .select_related("topic", "owner")
        .order_by("-created_at")[:20]
    )


@dataclass
class CaseTimelineEntry:
    at: datetime
    kind: str  # "message" or "event"
    obj: Message | CaseEvent


MESSAGES = "messages"  # memo key: the case's messages, see `case_message_list`


def case_message_list(*, case: Case) -> list[Message]:
    """The case's messages with their authors, oldest first, read once per page (the
    timeline and the procedure suggestions read the same rows)."""
    return memoized(
        case,
        MESSAGES,
        lambda: list(case.messages.select_related("author").order_by("created_at", "id")),
    )


def case_timeline(*, case: Case, include_internal: bool = True) -> list[CaseTimelineEntry]:
    """Messages and history of a case in the order they happened."""
    messages = case_message_list(case=case)
    if not include_internal:
        messages = [m for m in messages if m.visibility == "public"]
    events = list(case.events.select_related("actor").exclude(kind="message_added"))
    entries = [CaseTimelineEntry(m.created_at, "message", m) for m in messages]
    entries += [CaseTimelineEntry(e.created_at, "event", e) for e in _one_per_action(events)]
    entries.sort(key=lambda e: (e.at, 0 if e.kind == "event" else 1, e.obj.pk))
    return entries


def _one_per_action(events: list[CaseEvent]) -> list[CaseEvent]:
    """An operator action's rows (requested, done) as one entry: the latest, in its place."""

    def run_of(event: CaseEvent) -> str | None:
        is_run = event.kind == EventKind.ACTION and event.old_value.startswith(RUN_MARKER_PREFIX)
        return event.old_value if is_run else None

    latest: dict[str, CaseEvent] = {}
    for event in events:
        run = run_of(event)
        if run is not None and (run not in latest or latest[run].pk < event.pk):
            latest[run] = event
    return [e for e in events if run_of(e) is None or latest[run_of(e)] is e]


def case_owner_choices(*, case: Case) -> list[User]:
    """Who a case may be given to in the workspace: active front-line staff of its team.

    The current owner is always included, so re-saving a form never drops them silently.
    """
    if case.team_id is None:
        owners: list[User] = []
    else:
        owners = list(
            User.objects.filter(is_active=True, team_id=case.team_id)
            .exclude(role=Role.SPECIALIST)
            .order_by("last_name", "first_name", "username")[:200]
        )
    if case.owner is not None and all(u.pk != case.owner_id for u in owners):
        owners.insert(0, case.owner)
    return owners


def topic_list_active() -> QuerySet[Topic]:
    """Topics an operator may pick for a case; archived ones stay only on old cases.

    Ordered by business line, then name: pickers group them with `{% regroup %}` (the
    topics common to every line come first)."""
    return Topic.objects.filter(is_active=True).order_by("business_line", "name", "id")


def topic_list_for_client_lines(*, lines: set[str]) -> QuerySet[Topic]:
    """Topics a client may choose in the portal: active, visible to clients, and either
    common or of a business line the client is a customer of (a bank client sees no
    telecom or microfinance topics)."""
    return topic_list_active().filter(
        Q(business_line="") | Q(business_line__in=sorted(lines)), visible_to_clients=True
    )


TOPICS_GENERATION = "topics"


def _load_topics() -> dict[int, Topic]:
    found = Topic.objects.select_related("default_team").order_by()
    return {topic.pk: topic for topic in found}


# All topics with their default teams, held in memory until a topic or team changes
# (cases.apps bumps the "topics" generation): intake looks one up per case.
_topics = generations.Cached(TOPICS_GENERATION, _load_topics)


def topic_get(*, topic_id: int) -> Topic | None:
    """A topic by id, archived or not (the services refuse archived ones with a message).

    With its default team: a case opened on the topic goes to that team. A copy, so the
    caller may change it without touching the shared one.
    """
    topic = _topics.get().get(topic_id)
    return copy.copy(topic) if topic is not None else None


def topics_get(*, topic_ids: list[int]) -> dict[int, Topic]:
    """Topics by id with their default teams, for a batch intake (archived ones too)."""
    known = _topics.get()
    return {pk: copy.copy(known[pk]) for pk in set(topic_ids) if pk in known}


def interaction_list_for_user(
    *, user: User, client_id: int | None = None, case_id: int | None = None
) -> QuerySet[Interaction]:
    """Interactions `user` may see: of a visible case, of a visible client, or their own;
    in each case only those whose case `user` may open (a call summary is part of its case).

    Raises 404 when the named case or client is not visible, like the single-object reads.
    """
    qs = Interaction.objects.filter(attached_visible_q(user)).select_related("operator")
    if case_id is not None:
        qs = qs.filter(case=case_get_for_user(user=user, case_id=case_id))
    if client_id is not None:
        qs = qs.filter(client=client_get_for_user(user=user, client_id=client_id))
    if case_id is None and client_id is None:
        qs = qs.filter(operator=user)
    return qs.order_by("-started_at", "-id")


# --- the client card (cases depend on clients, so the card that shows both lives here) ---


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # "case" or "interaction"
    obj: object


@dataclass
class ClientCard:
    client: Client
    contacts: list[ContactPoint]
    products: list[ProductView]
    open_cases: list
    timeline: list[TimelineItem]

    @property
    def has_unreachable_contact(self) -> bool:
        return any(c.reachability != "reachable" for c in self.contacts)


def client_timeline(*, user: User, client: Client, limit: int = 50) -> list[TimelineItem]:
    """Earlier cases and contacts of the client as one list, newest first: only the cases
    `user` may open, and only the contacts on those cases (or on none)."""
    cases = (
        client.cases.filter(cases_visible_q(user))
        .select_related("topic", "owner")
        .order_by("-created_at")[:limit]
    )
    interactions = (
        Interaction.objects.filter(attached_visible_q(user), client=client)
        .select_related("operator", "case")
        .order_by("-started_at")[:limit]
    )
    items = [TimelineItem(at=c.created_at, kind="case", obj=c) for c in cases]
    items += [TimelineItem(at=i.started_at, kind="interaction", obj=i) for i in interactions]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def client_card(*, user: User, client_id: int) -> ClientCard:
    """Everything the operator needs about a client on one screen."""
    client = client_get_for_user(user=user, client_id=client_id)
    return ClientCard(
        client=client,
        contacts=client_contact_list(client=client),
        products=client_products(client=client),
        open_cases=cases_open_for_client(user=user, client=client),
        timeline=client_timeline(user=user, client=client),
    )
