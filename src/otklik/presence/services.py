"""Writes of the presence app: drafts, and the presence entries of open tabs."""

import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import User
from otklik.cases.models import Case, MessageVisibility
from otklik.cases.services import MAX_BODY
from otklik.common.errors import ServiceError
from otklik.presence.models import Draft, DraftKind
from otklik.presence.store import TTL, get_store

#: Seconds a "typing…" mark lasts after the last keystroke the browser reported.
TYPING_SECONDS = 4.0
TYPING_WHAT = ("reply", "note", "answer")


@transaction.atomic
def draft_save(
    *, user: User, case: Case, kind: str, body: str, visibility: str = ""
) -> Draft | None:
    """Keep what `user` has typed on `case`; an empty text deletes the draft.

    The caller has checked that the user may see the case (the view fetched it through
    `case_get_for_user`)."""
    if kind not in DraftKind.values:
        raise ServiceError({"kind": _("Unknown draft kind.")})
    if visibility and visibility not in MessageVisibility.values:
        raise ServiceError({"visibility": _("Visibility must be internal or public.")})
    if len(body) > MAX_BODY:
        raise ServiceError(
            {"body": _("The text is longer than %(n)s characters.") % {"n": MAX_BODY}}
        )
    if not body.strip():
        draft_discard(user=user, case=case, kind=kind)
        return None
    draft, _created = Draft.objects.update_or_create(
        user=user,
        case=case,
        kind=kind,
        defaults={"body": body, "visibility": visibility, "updated_at": timezone.now()},
    )
    return draft


def draft_discard(*, user: User, case: Case, kind: str) -> int:
    """Forget the draft once its answer is sent (or emptied)."""
    deleted, _detail = Draft.objects.filter(user=user, case=case, kind=kind).delete()
    return deleted


def presence_scope(kind: str, object_id: int) -> str:
    """The store scope of one page: "case:7", "client:3"."""
    return f"{kind}:{object_id}"


def presence_touch(
    *, scope: str, tab: str, user: User, typing: str | None = None, previous: dict | None = None
) -> dict:
    """Refresh one tab's entry (a heartbeat); `typing` marks it as typing a reply/note now.

    Returns the stored details, which the socket keeps to carry the typing mark over
    heartbeats until it runs out."""
    now = time.time()
    info = dict(previous or {})
    info.setdefault("since", now)
    info["user"] = user.pk
    info["name"] = user.display_name
    if typing is not None:
        if typing in TYPING_WHAT:
            info["typing"] = typing
            info["typing_until"] = now + TYPING_SECONDS
        else:
            info.pop("typing", None)
            info.pop("typing_until", None)
    get_store().touch(scope, f"{user.pk}:{tab}", info, TTL)
    return info


def presence_leave(*, scope: str, tab: str, user_id: int) -> None:
    """The tab closed its socket: drop its entry now rather than at expiry."""
    get_store().leave(scope, f"{user_id}:{tab}")
