"""The case lifecycle: every allowed status change, in one table."""

from django.utils.translation import gettext_lazy as _

from otklik.cases.models import OPEN_STATUSES, CaseStatus

S = CaseStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset(
        {S.IN_PROGRESS, S.WAITING_DEPARTMENT, S.WAITING_CLIENT, S.ANSWERED, S.RESOLVED}
    ),
    S.IN_PROGRESS: frozenset({S.WAITING_DEPARTMENT, S.WAITING_CLIENT, S.ANSWERED, S.RESOLVED}),
    S.WAITING_DEPARTMENT: frozenset({S.IN_PROGRESS, S.WAITING_CLIENT, S.ANSWERED, S.RESOLVED}),
    S.WAITING_CLIENT: frozenset({S.IN_PROGRESS, S.WAITING_DEPARTMENT, S.ANSWERED, S.RESOLVED}),
    S.ANSWERED: frozenset({S.IN_PROGRESS, S.WAITING_CLIENT, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
}

REOPEN_FROM = frozenset({S.RESOLVED, S.CLOSED})


def allowed_targets(status: str) -> list[str]:
    """Statuses reachable from `status`, in lifecycle order (for buttons and the API)."""
    targets = TRANSITIONS.get(status, frozenset())
    return [s for s in S.values if s in targets]


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def refusal_message(current: str, target: str) -> str:
    """Why a transition is refused, in words an operator understands."""
    if current == target:
        return str(_("The case is already in status «%(status)s».") % {"status": S(current).label})
    if target == S.CLOSED:
        return str(
            _("A case in status «%(status)s» cannot be closed: resolve it first.")
            % {"status": S(current).label}
        )
    return str(
        _("A case cannot go from «%(current)s» to «%(target)s».")
        % {"current": S(current).label, "target": S(target).label}
    )
