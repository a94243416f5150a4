"""Reads of the personal-data access log: the access review for supervisors and admins."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from otklik.accounts.models import User
from otklik.audit.models import AuditRecord

PAGE_SIZE = 50
#: An export is for a review, not a backup: more rows than this means narrower filters.
EXPORT_MAX_ROWS = 100_000

ACTION_LABELS = {
    "client.view": gettext_lazy("Opened the client card"),
    "client.search": gettext_lazy("Found in a search"),
    "client.list": gettext_lazy("Listed"),
    "client.create": gettext_lazy("Created the client"),
    "client.products.view": gettext_lazy("Read the products"),
    "client.identifiers.reveal": gettext_lazy("Saw card and account numbers in full"),
    "case.view": gettext_lazy("Opened a case"),
    "case.list": gettext_lazy("Listed cases"),
    "case.handoffs": gettext_lazy("Read the handoffs of a case"),
    "case.file": gettext_lazy("Opened a file of an imported case"),
    "interaction.list": gettext_lazy("Read the contacts"),
    "handoff.view": gettext_lazy("Opened a handoff"),
    "handoff.attachment": gettext_lazy("Opened a handoff attachment"),
    "order.view": gettext_lazy("Opened an order"),
    "order.document.view": gettext_lazy("Opened an order document"),
    "actions.view": gettext_lazy("Read the actions of a product"),
    "action.allowed": gettext_lazy("Ran an action on a product"),
    "action.queued": gettext_lazy("Ran an action on a product"),
    "action.succeeded": gettext_lazy("Ran an action on a product"),
    "action.handed_off": gettext_lazy("Ran an action on a product"),
    "action.denied": gettext_lazy("Was refused an action on a product"),
    "client_flag.set": gettext_lazy("Set a mark on the client"),
    "client_flag.cleared": gettext_lazy("Removed a mark from the client"),
    "contact.reachability": gettext_lazy("Changed whether a contact works"),
    "order.draft": gettext_lazy("Drafted an order"),
    "order.sign": gettext_lazy("Order signed"),
    "order.step_resolve": gettext_lazy("Worked an order"),
    "order.step_retry": gettext_lazy("Worked an order"),
    "order.unfreeze": gettext_lazy("Worked an order"),
    "access_review.export": gettext_lazy("Exported the access log"),
    "client.profile.update": gettext_lazy("Changed the service profile"),
    "client.health.view": gettext_lazy("Read the client's health"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


@dataclass(frozen=True)
class AccessFilters:
    """What the reviewer asked for; None means "any"."""

    client_id: int | None = None
    actor_id: int | None = None
    since: date | None = None
    until: date | None = None

    def describe(self) -> str:
        """The filters in one line, for the audit record of an export."""
        parts = [
            f"client={self.client_id or '*'}",
            f"actor={self.actor_id or '*'}",
            f"since={self.since.isoformat() if self.since else '*'}",
            f"until={self.until.isoformat() if self.until else '*'}",
        ]
        return " ".join(parts)


def can_review_access(user: User) -> bool:
    """Supervisors and administrators review who read what; nobody else."""
    return bool(user.is_authenticated and user.is_active and user.sees_everything)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def access_log(*, user: User, filters: AccessFilters) -> QuerySet[AuditRecord]:
    """Access records matching `filters`, newest first; PermissionDenied for non-reviewers."""
    if not can_review_access(user):
        raise PermissionDenied(_("Only supervisors and administrators review data access."))
    qs = AuditRecord.objects.select_related("actor", "client")
    if filters.client_id is not None:
        qs = qs.filter(client_id=filters.client_id)
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.since is not None:
        qs = qs.filter(created_at__gte=_day_start(filters.since))
    if filters.until is not None:
        qs = qs.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    return qs.order_by("-created_at", "-id")


def access_log_page(
    *, user: User, filters: AccessFilters, page: int, size: int = PAGE_SIZE
) -> tuple[list[AuditRecord], bool]:
    """One page and whether another follows (no COUNT over the whole log)."""
    page = max(page, 1)
    start = (page - 1) * size
    rows = list(access_log(user=user, filters=filters)[start : start + size + 1])
    return rows[:size], len(rows) > size


def access_review_staff() -> QuerySet[User]:
    """Members of staff to filter by, in the order people look for them."""
    return User.objects.order_by("last_name", "first_name", "username")


def access_review_client(*, user: User, client_id: int):
    """The client a review is filtered by, for its heading; only for those who may review.

    The client model is reached through the log's own foreign key, so the audit app does not
    import the clients app (clients writes audit records; the dependency stays one way).
    """
    if not can_review_access(user):
        raise PermissionDenied
    client_model = AuditRecord._meta.get_field("client").related_model
    return client_model.objects.filter(pk=client_id).first()
