"""Reads for the manager's desk; who may see whose book is decided here.

A personal manager sees his own clients and, while a colleague is away and he is her
named deputy, hers. Supervisors and admins see every book. Nobody else has a book.
"""

from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.cases.models import OPEN_STATUSES, Case, Interaction
from otklik.clients.models import Client, ClientSearchTerm, Segment
from otklik.common.text import normalize
from otklik.relationship.models import (
    Absence,
    AssignmentChange,
    ManagerTask,
    OfferRule,
    OnboardingStep,
    RelatedClient,
    Relationship,
)

PAGE_SIZE = 50
#: `?manager=0`: the premium clients without a manager (supervisors only).
UNASSIGNED = 0


def absences_on(day: date) -> QuerySet[Absence]:
    return Absence.objects.filter(starts_on__lte=day, ends_on__gte=day)


def covered_managers(*, user: User, day: date | None = None) -> list[int]:
    """The managers whose books `user` covers today as their deputy."""
    day = day or timezone.localdate()
    return list(absences_on(day).filter(deputy=user).values_list("manager_id", flat=True))


def acting_manager(*, manager: User | None, day: date | None = None) -> User | None:
    """Who answers for `manager`'s clients today: his deputy while he is away, else him."""
    if manager is None:
        return None
    found = AbsenceRule().standing_in(manager_id=manager.pk, day=day or timezone.localdate())
    return found[0] if found else manager


class AbsenceRule:
    """The desk's deputy rule, registered with `clients.serving` (chat routing, portal)."""

    def standing_in(self, *, manager_id: int, day: date) -> tuple[User, date] | None:
        absence = (
            absences_on(day)
            .filter(manager_id=manager_id, deputy__is_active=True)
            .select_related("deputy")
            .order_by("-starts_on", "-id")
            .first()
        )
        return (absence.deputy, absence.ends_on) if absence else None

    def away(self, *, day: date) -> set[int]:
        return set(absences_on(day).values_list("manager_id", flat=True))


def can_manage_books(user: User) -> bool:
    """Assigning and moving clients between managers is for supervisors and admins."""
    return user.is_active and user.sees_everything


def has_desk(user: User) -> bool:
    return user.is_active and (user.role == Role.PERSONAL_MANAGER or user.sees_everything)


def book_managers(*, user: User, manager_id: int | None = None) -> list[int]:
    """The managers whose books `user` is asking for and may see (raises 404 otherwise).

    Without `manager_id` a manager gets his own and the covered books; a supervisor must
    name the manager (his "scope" is every book).
    """
    if not has_desk(user):
        raise Http404("no desk")
    if user.sees_everything:
        if manager_id is None:
            return [user.pk] if user.role == Role.PERSONAL_MANAGER else []
        return [manager_id]
    mine = [user.pk, *covered_managers(user=user)]
    if manager_id is None:
        return mine
    if manager_id not in mine:
        raise Http404("not your book")
    return [manager_id]


def managers_list() -> QuerySet[User]:
    return User.objects.filter(role=Role.PERSONAL_MANAGER, is_active=True).order_by(
        "last_name", "first_name"
    )


def client_in_book(*, user: User, client_id: int) -> Client:
    """A client of a book `user` may work (own, covered, or any for a supervisor)."""
    client = Client.objects.filter(pk=client_id).select_related("personal_manager").first()
    if client is None or client.personal_manager_id is None:
        raise Http404("client not found")
    if user.sees_everything:
        return client
    if user.role != Role.PERSONAL_MANAGER or client.personal_manager_id not in [
        user.pk,
        *covered_managers(user=user),
    ]:
        raise Http404("client not found")
    return client


def clients_for_assignment(*, user: User, client_ids: list[int]) -> list[Client]:
    """The clients a supervisor ticked to move (nobody else may move any)."""
    if not can_manage_books(user):
        return []
    return list(Client.objects.filter(pk__in=client_ids[:5000]))


def offer_rule_get(*, rule_id: int | None) -> OfferRule | None:
    return OfferRule.objects.filter(pk=rule_id, active=True).first() if rule_id else None


SORTS = {
    "name": ("last_name", "first_name", "id"),
    "health": ("health_score", "last_name", "id"),
    "-health": ("-health_score", "last_name", "id"),
    "last_contact": ("last_contact", "id"),
    "next_contact": ("next_contact", "id"),
    "open_cases": ("-open_cases", "last_name", "id"),
    "shortfall": ("-shortfall", "id"),
}


@dataclass(frozen=True)
class PortfolioFilters:
    query: str = ""
    segment: str = ""
    level: str = ""
    sort: str = "name"
    page: int = 1


def portfolio(*, user: User, managers: list[int], filters: PortfolioFilters) -> Page:
    """One page of the book(s): each client with package, health, contacts and open cases.

    The figures are correlated subqueries on indexed columns, so sorting by any of them
    costs one pass over the book (thousands of rows), not a query per row.
    """
    open_cases = (
        Case.objects.filter(client=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_interaction = (
        Interaction.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(m=Max("started_at"))
        .values("m")
    )
    next_task = (
        ManagerTask.objects.filter(client=OuterRef("pk"), done_at__isnull=True)
        .order_by()
        .values("client")
        .annotate(m=Min("due_at"))
        .values("m")
    )
    onboarding_open = OnboardingStep.objects.filter(client=OuterRef("pk"), done_at__isnull=True)
    if managers == [UNASSIGNED]:
        # Premium clients nobody looks after yet: what the supervisor assigns from.
        book = Q(personal_manager__isnull=True, segment__in=[Segment.PREMIUM, Segment.PRIVATE])
    else:
        book = Q(personal_manager_id__in=managers)
    qs = (
        Client.objects.filter(book)
        .select_related("relationship__package_level", "personal_manager")
        .annotate(
            health_score=Coalesce(F("health__score"), Value(-1), output_field=IntegerField()),
            shortfall=F("health__fee_shortfall"),
            open_cases=Coalesce(Subquery(open_cases), Value(0), output_field=IntegerField()),
            last_interaction=Subquery(last_interaction, output_field=DateTimeField()),
            last_contact=Coalesce(
                Subquery(last_interaction, output_field=DateTimeField()),
                F("relationship__last_contact_at"),
            ),
            next_contact=Coalesce(
                Subquery(next_task, output_field=DateTimeField()),
                F("relationship__next_contact_on"),
                output_field=DateTimeField(),
            ),
            onboarding=Exists(onboarding_open),
        )
    )
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    if filters.level:
        qs = qs.filter(relationship__package_level__code=filters.level)
    key = normalize(filters.query)
    if len(key) >= 2:
        qs = qs.filter(
            Exists(
                ClientSearchTerm.objects.filter(
                    client=OuterRef("pk"), term__gte=key, term__lt=key + "\uffff"
                )
            )
        )
    qs = qs.order_by(*SORTS.get(filters.sort, SORTS["name"]))
    paginator = Paginator(qs, PAGE_SIZE)
    return paginator.get_page(filters.page)


@dataclass
class ServiceProfile:
    """What every operator sees at the top of the client card."""

    relationship: Relationship | None
    related: list[RelatedClient]
    manager: User | None
    deputy: User | None
    onboarding: list[OnboardingStep]


def service_profile(*, client: Client) -> ServiceProfile:
    """The client's service profile; the caller has already checked access and audited.

    One query for a client who has none (the card of every mass-segment client pays for
    this panel); the rest only when there is a profile or a manager.
    """
    rel = Relationship.objects.filter(client=client).select_related("package_level").first()
    related: list[RelatedClient] = []
    onboarding: list[OnboardingStep] = []
    if rel is not None:
        related = list(
            RelatedClient.objects.filter(client=client).select_related("related").order_by("id")
        )
        onboarding = list(OnboardingStep.objects.filter(client=client))
    deputy = None
    if client.personal_manager_id is not None:
        acting = acting_manager(manager=client.personal_manager)
        deputy = acting if acting != client.personal_manager else None
    return ServiceProfile(
        relationship=rel,
        related=related,
        manager=client.personal_manager,
        deputy=deputy,
        onboarding=onboarding,
    )


def assignment_history(*, client: Client, limit: int = 20) -> list[AssignmentChange]:
    return list(
        AssignmentChange.objects.filter(client=client).select_related(
            "from_manager", "to_manager", "by"
        )[:limit]
    )


def open_tasks(*, managers: list[int], limit: int = 20) -> list[ManagerTask]:
    return list(
        ManagerTask.objects.filter(manager_id__in=managers, done_at__isnull=True)
        .select_related("client")
        .order_by("due_at")[:limit]
    )


def task_get_for_user(*, user: User, task_id: int) -> ManagerTask:
    task = ManagerTask.objects.filter(pk=task_id).select_related("client").first()
    if task is None:
        raise Http404("task not found")
    client_in_book(user=user, client_id=task.client_id)
    return task


def onboarding_step_get_for_user(*, user: User, step_id: int) -> OnboardingStep:
    step = OnboardingStep.objects.filter(pk=step_id).first()
    if step is None:
        raise Http404("step not found")
    client_in_book(user=user, client_id=step.client_id)
    return step


def visible_clients_q_for_deputy(user: User, *, prefix: str = "") -> Q:
    """Cases of clients whose manager `user` covers today (used by cases visibility)."""
    covered = absences_on(timezone.localdate()).filter(deputy=user).values("manager_id")
    return Q(**{f"{prefix}client__personal_manager__in": Subquery(covered)})
