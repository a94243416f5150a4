"""Who serves a client now: his personal manager, or the colleague standing in for him.

Standing in (a named deputy while the manager is away) is a rule of the manager's desk
(`relationship`), which sits above the apps that need the answer: chat routing sends a
client's chat to whoever serves him now, and the portal names that person. So the desk
registers its rule here when Django starts (`RelationshipConfig.ready`) and no lower app
imports it (docs/architecture.md); with no rule registered, a client is served by his own
manager and nobody is away.
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from django.utils import timezone

from otklik.accounts.models import User
from otklik.clients.models import Client


class DeputyRule(Protocol):
    def standing_in(self, *, manager_id: int, day: date) -> tuple[User, date] | None:
        """The deputy serving `manager_id`'s clients on `day` and the absence's last day."""

    def away(self, *, day: date) -> set[int]:
        """The staff who are away on `day` (they get no new work)."""


_rule: DeputyRule | None = None


def register_deputy_rule(rule: DeputyRule | None) -> None:
    global _rule
    _rule = rule


@dataclass(frozen=True)
class Serving:
    """The client's own manager and who serves him today (the same person unless away)."""

    manager: User
    acting: User
    #: The last day of the manager's absence, when a deputy serves.
    until: date | None = None

    @property
    def standing_in(self) -> bool:
        return self.acting.pk != self.manager.pk


def serving_now(*, client: Client, day: date | None = None) -> Serving | None:
    """Who serves `client` on `day` (today); None for a client without a personal manager."""
    if client.personal_manager_id is None:
        return None
    manager = client.personal_manager
    found = None
    if _rule is not None:
        found = _rule.standing_in(manager_id=manager.pk, day=day or timezone.localdate())
    if found is None:
        return Serving(manager=manager, acting=manager)
    deputy, until = found
    return Serving(manager=manager, acting=deputy, until=until)


def away_staff(*, day: date | None = None) -> set[int]:
    """Ids of the staff away on `day` (today), who get no new chats."""
    if _rule is None:
        return set()
    return _rule.away(day=day or timezone.localdate())
