"""Reads of the presence app: who is on a page now, and one's own drafts."""

import time
from collections.abc import Iterable

from otklik.accounts.models import User
from otklik.cases.models import Case
from otklik.presence.models import Draft
from otklik.presence.store import get_store


def presence_people(*, scope: str, now: float | None = None) -> list[dict]:
    """The people with the page open, one row per person however many tabs they have:
    {"user", "name", "since", "typing"}, earliest arrival first. No database query."""
    now = now or time.time()
    people: dict[int, dict] = {}
    for info in get_store().members(scope).values():
        uid = info.get("user")
        if not isinstance(uid, int):
            continue
        typing = info.get("typing", "") if info.get("typing_until", 0) > now else ""
        row = people.get(uid)
        if row is None:
            people[uid] = {
                "user": uid,
                "name": str(info.get("name", "")),
                "since": info.get("since", now),
                "typing": typing,
            }
        else:
            row["since"] = min(row["since"], info.get("since", now))
            row["typing"] = row["typing"] or typing
    return sorted(people.values(), key=lambda r: (r["since"], r["user"]))


def user_present(*, user_id: int, scopes: Iterable[str]) -> bool:
    """Whether this member of staff has any of these pages open now."""
    store = get_store()
    prefix = f"{user_id}:"
    return any(any(m.startswith(prefix) for m in store.members(s)) for s in scopes)


def drafts_for(*, user: User, case: Case) -> list[Draft]:
    """The user's own unsent texts on the case (never anyone else's)."""
    return list(Draft.objects.filter(user=user, case=case).order_by("kind"))
