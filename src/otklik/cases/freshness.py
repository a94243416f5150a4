"""No blind replies: what the client-facing side of a case became since a sender opened it.

Every page that lets staff answer the client (the case's reply form, the portal answer,
the handoff answer) carries the id of the newest case event it was rendered with, its
"seen marker". When the answer comes back, `reply_guard` looks for client-visible changes
made after that event by anyone else: a public message (a colleague's reply, the client's
own message from the chat or the portal) or a status change. If there are some, the reply
is held: the sender sees what changed and sends again (now with a fresh marker) or edits.
Ids, not times: events are ordered by id and a clock skew cannot hide one.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from otklik.accounts.models import User
from otklik.cases.models import Case, CaseEvent, EventKind, Message, MessageVisibility
from otklik.common.errors import ConflictError

#: Event kinds the client can notice (with MESSAGE_ADDED only when the message is public).
CLIENT_VISIBLE_KINDS = (EventKind.MESSAGE_ADDED, EventKind.STATUS_CHANGED, EventKind.REOPENED)
#: How many changes a held reply lists; more are summed up as "and N more".
SHOWN_CHANGES = 10


@dataclass
class CaseChanges:
    """Client-visible changes to a case after a seen marker, by people other than the sender."""

    marker: int  # the newest event id now: the marker a confirmed resend carries
    events: list[CaseEvent] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    more: int = 0

    def __bool__(self) -> bool:
        return bool(self.events or self.messages)


class StaleReply(ConflictError):
    """The case changed for the client since the sender opened it; show them what changed."""

    def __init__(self, changes: CaseChanges):
        super().__init__(
            {
                "seen": _(
                    "The case changed since you opened it. Read what changed, then send "
                    "your answer again or edit it."
                )
            }
        )
        self.changes = changes


def case_seen_marker(*, case: Case) -> int:
    """The id of the case's newest event (0 if none): what a reply form carries as `seen`."""
    return (
        CaseEvent.objects.filter(case=case).order_by("-pk").values_list("pk", flat=True).first()
        or 0
    )


def parse_seen(raw: object) -> int | None:
    """The form's `seen` value, or None when absent (API clients and old pages send none)."""
    if raw in (None, ""):
        return None
    try:
        return max(int(str(raw)), 0)
    except ValueError:
        return 0  # garbage counts as "saw nothing": the reply is held, never sent blind


def case_changes_since(*, case: Case, seen: int, sender: User | None) -> CaseChanges:
    """Client-visible events after event `seen` not made by `sender`, and the public messages
    they added (a message's event and row are written together, so its time finds it)."""
    events = list(
        CaseEvent.objects.filter(case=case, pk__gt=seen, kind__in=CLIENT_VISIBLE_KINDS)
        .select_related("actor")
        .order_by("pk")
    )
    marker = max([seen, *(e.pk for e in events)])
    if events:
        marker = max(marker, case_seen_marker(case=case))
    if sender is not None:
        events = [e for e in events if e.actor_id != sender.pk]
    message_times = [
        e.created_at
        for e in events
        if e.kind == EventKind.MESSAGE_ADDED and e.new_value == MessageVisibility.PUBLIC
    ]
    messages: list[Message] = []
    if message_times:
        qs = Message.objects.filter(
            case=case, visibility=MessageVisibility.PUBLIC, created_at__gte=min(message_times)
        ).select_related("author")
        if sender is not None:
            qs = qs.exclude(author=sender)
        messages = list(qs.order_by("created_at", "pk")[: SHOWN_CHANGES + 1])
    status_events = [e for e in events if e.kind != EventKind.MESSAGE_ADDED]
    more = max(len(messages) - SHOWN_CHANGES, 0) + max(len(status_events) - SHOWN_CHANGES, 0)
    return CaseChanges(
        marker=marker,
        events=status_events[:SHOWN_CHANGES],
        messages=messages[:SHOWN_CHANGES],
        more=more,
    )


def reply_guard(*, case: Case, seen: int | None, sender: User | None) -> None:
    """Raise `StaleReply` if the case changed for the client after `seen` (see module doc).

    `seen=None` (no marker sent: the API, scripts) skips the check: the API has its own
    conflict rules and no page the sender could have read.

    Called inside the transaction that then sends the reply, it first locks the case row
    (PostgreSQL; SQLite has one writer anyway): two replies sent at the same moment are
    checked one after the other, so the second sees the first and is held. Every write to
    a case (a reply, a client's message, a status change) updates that row too.
    """
    if seen is None:
        return
    if transaction.get_connection().in_atomic_block:
        Case.objects.select_for_update().filter(pk=case.pk).values_list("pk").first()
    changes = case_changes_since(case=case, seen=seen, sender=sender)
    if changes:
        raise StaleReply(changes)
