"""Reading ticket exports of Zammad and Zendesk into one shape (docs/import.md).

Zammad: the REST API's records with `expand=true` (tickets with `group`, `state`,
`priority`, `customer`, `owner` as names; their articles from
`/api/v1/ticket_articles/by_ticket/{id}` with `type`, `sender`, `internal`,
`content_type`, `attachments`), and the users from `/api/v1/users`, put in one JSON file:
{"users": [...], "tickets": [{..., "articles": [...]}]}.

Zendesk: pages of the incremental ticket export (`/api/v2/incremental/tickets/cursor.json`
with `include=users,groups`: {"tickets", "users", "groups", "end_of_stream"}), each
ticket with its `comments` as `/api/v2/tickets/{id}/comments.json` returns them.

An attachment's content is the base64 `data` of the entry (as Zammad's API takes it) or
the file `attachments/<attachment id>/<file name>` beside the export file (where an export
script saves what `content_url` / `/api/v1/ticket_attachment/…` served).

Pure reading: no database. Every ticket that cannot be read whole carries the reasons in
`problems`, and is then refused alone.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from otklik.cases.models import CaseStatus, Priority
from otklik.clients.models import ChannelKind
from otklik.mail.parsing import html_to_text

# Their statuses → ours (docs/import.md explains each choice).
ZAMMAD_STATES = {
    "new": CaseStatus.NEW,
    "open": CaseStatus.IN_PROGRESS,
    "pending reminder": CaseStatus.WAITING_CLIENT,
    "pending close": CaseStatus.ANSWERED,
    "closed": CaseStatus.CLOSED,
    "merged": CaseStatus.CLOSED,
}
ZENDESK_STATUSES = {
    "new": CaseStatus.NEW,
    "open": CaseStatus.IN_PROGRESS,
    "pending": CaseStatus.WAITING_CLIENT,
    "hold": CaseStatus.WAITING_DEPARTMENT,
    "solved": CaseStatus.RESOLVED,
    "closed": CaseStatus.CLOSED,
}
ZENDESK_PRIORITIES = {
    None: Priority.NORMAL,
    "low": Priority.LOW,
    "normal": Priority.NORMAL,
    "high": Priority.HIGH,
    "urgent": Priority.URGENT,
}
# Article types (Zammad) and `via.channel` (Zendesk) → our channels; anything else is
# a note or a channel we do not have, kept as the ticket's own channel.
ZAMMAD_CHANNELS = {
    "email": ChannelKind.EMAIL,
    "phone": ChannelKind.PHONE,
    "web": ChannelKind.PORTAL,
    "chat": ChannelKind.CHAT,
    "sms": ChannelKind.MESSENGER,
    "telegram personal-message": ChannelKind.MESSENGER,
    "whatsapp message": ChannelKind.MESSENGER,
    "facebook feed post": ChannelKind.MESSENGER,
    "twitter direct-message": ChannelKind.MESSENGER,
}
ZENDESK_CHANNELS = {
    "email": ChannelKind.EMAIL,
    "voice": ChannelKind.PHONE,
    "web": ChannelKind.PORTAL,
    "mobile": ChannelKind.PORTAL,
    "help_center": ChannelKind.PORTAL,
    "chat": ChannelKind.CHAT,
    "native_messaging": ChannelKind.CHAT,
    "sms": ChannelKind.MESSENGER,
    "whatsapp": ChannelKind.MESSENGER,
    "telegram": ChannelKind.MESSENGER,
    "facebook": ChannelKind.MESSENGER,
}


@dataclass(frozen=True)
class Person:
    """A user of the old desk: an agent (mapped to our staff) or a customer (a client)."""

    external_id: str
    name: str
    email: str = ""
    phone: str = ""
    is_agent: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name


@dataclass
class FileIn:
    external_id: str
    name: str
    content_type: str
    content: bytes


@dataclass
class Article:
    external_id: str
    created_at: datetime
    author: Person | None
    sender: str  # "client", "agent" or "system"
    internal: bool
    channel: str | None  # ours, None for a note
    body: str
    files: list[FileIn] = field(default_factory=list)


@dataclass
class Ticket:
    external_id: str
    number: str
    subject: str
    status: str = ""
    priority: int = Priority.NORMAL
    group: str = ""
    customer: Person | None = None
    owner: Person | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    channel: str = ChannelKind.EMAIL
    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Export:
    source: str
    tickets: list[Ticket]
    agents: dict[str, Person]  # external id → agent
    groups: set[str]


class ExportUnreadable(Exception):
    """The file itself cannot be read (not JSON, not this format): nothing is imported."""


def _load(path: Path, top_key: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportUnreadable(
            _("%(file)s is not a JSON file: %(error)s") % {"file": path.name, "error": exc}
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get(top_key), list):
        raise ExportUnreadable(
            _("%(file)s has no «%(key)s» list: is it the right format?")
            % {"file": path.name, "key": top_key}
        )
    return data


def _when(value, name: str, problems: list[str]) -> datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        problems.append(
            _("%(field)s is not a date and time with its zone: %(value)r")
            % {"field": name, "value": value}
        )
        return None
    return parsed


def _content(entry: dict, folder: Path, name: str, problems: list[str]) -> bytes | None:
    """The attachment's bytes: inline base64 `data`, else the file the export saved."""
    if entry.get("data"):
        try:
            return base64.b64decode(entry["data"], validate=True)
        except (binascii.Error, ValueError):
            problems.append(_("attachment %s: data is not base64") % name)
            return None
    stored = folder / "attachments" / str(entry.get("id", "")) / Path(name).name
    if not stored.is_file():
        problems.append(
            _("attachment %(name)s: its file %(path)s is missing")
            % {"name": name, "path": stored.relative_to(folder)}
        )
        return None
    return stored.read_bytes()


def _text(body: str, content_type: str) -> str:
    body = body or ""
    return html_to_text(body) if "html" in (content_type or "") else body.strip()


# --- Zammad -------------------------------------------------------------------------


def _zammad_person(user: dict) -> Person:
    name = " ".join(p for p in (user.get("firstname"), user.get("lastname")) if p)
    roles = {str(r).lower() for r in user.get("roles") or []}
    return Person(
        external_id=str(user.get("id")),
        name=name or user.get("login") or user.get("email") or "?",
        email=(user.get("email") or "").strip().lower(),
        phone=user.get("mobile") or user.get("phone") or "",
        is_agent=bool(roles & {"agent", "admin"}),
    )


def _zammad_priority(name: str | None, problems: list[str]) -> int:
    """ "1 low", "2 normal", "3 high" (and custom ones numbered the same way)."""
    head = str(name or "").split(" ", 1)[0]
    if not head.isdigit() or int(head) < 1:
        problems.append(_("unknown priority %r") % name)
        return Priority.NORMAL
    return min(int(head), Priority.URGENT)


def _zammad_article(raw: dict, people: dict[str, Person], folder: Path, problems: list[str]):
    ref = f"article {raw.get('id')}"
    created = _when(raw.get("created_at"), f"{ref} created_at", problems)
    sender = str(raw.get("sender") or "").lower()
    if sender not in {"customer", "agent", "system"}:
        problems.append(_("%(ref)s: unknown sender %(sender)r") % {"ref": ref, "sender": sender})
    author = people.get(str(raw.get("created_by_id")))
    files = []
    for entry in raw.get("attachments") or []:
        name = entry.get("filename") or ""
        content = _content(entry, folder, name, problems)
        if content is not None:
            kind = (entry.get("preferences") or {}).get("Content-Type", "")
            files.append(FileIn(str(entry.get("id")), name, kind, content))
    body = _text(raw.get("body"), raw.get("content_type"))
    if not body and not files:
        problems.append(_("%s: no text and no files") % ref)
    if created is None:
        return None
    return Article(
        external_id=str(raw.get("id")),
        created_at=created,
        author=author,
        sender={"customer": "client", "agent": "agent"}.get(sender, "system"),
        internal=bool(raw.get("internal")),
        channel=ZAMMAD_CHANNELS.get(str(raw.get("type") or "").lower()),
        body=body,
        files=files,
    )


def read_zammad(paths: list[Path]) -> Export:
    tickets, people, groups = [], {}, set()
    for path in paths:
        data = _load(path, "tickets")
        for user in data.get("users") or []:
            person = _zammad_person(user)
            people[person.external_id] = person
        for raw in data["tickets"]:
            tickets.append((raw, path.parent))
    by_login = {p.email: p for p in people.values() if p.email}
    result = []
    for raw, folder in tickets:
        problems: list[str] = []
        ticket = Ticket(
            external_id=str(raw.get("id") or ""),
            number=str(raw.get("number") or raw.get("id") or ""),
            subject=(raw.get("title") or "").strip(),
        )
        if not ticket.external_id:
            problems.append(_("the ticket has no id"))
        state = str(raw.get("state") or "")
        if state not in ZAMMAD_STATES:
            problems.append(_("state %r is not imported") % state)
        ticket.status = ZAMMAD_STATES.get(state, "")
        ticket.priority = _zammad_priority(raw.get("priority"), problems)
        ticket.group = raw.get("group") or ""
        ticket.customer = people.get(str(raw.get("customer_id"))) or by_login.get(
            str(raw.get("customer") or "").lower()
        )
        if ticket.customer is None:
            problems.append(_("customer %r is not among the users") % raw.get("customer_id"))
        owner = people.get(str(raw.get("owner_id")))
        ticket.owner = owner if owner is not None and raw.get("owner_id") != 1 else None
        ticket.created_at = _when(raw.get("created_at"), "created_at", problems)
        ticket.updated_at = _when(raw.get("updated_at") or raw.get("created_at"), "updated_at", [])
        ticket.closed_at = (
            _when(raw.get("close_at"), "close_at", []) if raw.get("close_at") else None
        )
        for article in raw.get("articles") or []:
            read = _zammad_article(article, people, folder, problems)
            if read is not None:
                ticket.articles.append(read)
        if not ticket.articles:
            problems.append(_("the ticket has no articles"))
        first = next((a.channel for a in ticket.articles if a.channel), None)
        ticket.channel = first or ChannelKind.EMAIL
        ticket.problems = problems
        groups.add(ticket.group)
        result.append(ticket)
    agents = {k: p for k, p in people.items() if p.is_agent}
    return Export("zammad", result, agents, groups - {""})


# --- Zendesk ------------------------------------------------------------------------


def _zendesk_person(user: dict) -> Person:
    return Person(
        external_id=str(user.get("id")),
        name=user.get("name") or user.get("email") or "?",
        email=(user.get("email") or "").strip().lower(),
        phone=user.get("phone") or "",
        is_agent=user.get("role") in {"agent", "admin"},
    )


def _zendesk_comment(raw: dict, people, folder: Path, problems: list[str]):
    ref = f"comment {raw.get('id')}"
    created = _when(raw.get("created_at"), f"{ref} created_at", problems)
    author = people.get(str(raw.get("author_id")))
    if author is None:
        problems.append(
            _("%(ref)s: author %(id)r is not among the users")
            % {"ref": ref, "id": raw.get("author_id")}
        )
    files = []
    for entry in raw.get("attachments") or []:
        name = entry.get("file_name") or ""
        content = _content(entry, folder, name, problems)
        if content is not None:
            files.append(FileIn(str(entry.get("id")), name, entry.get("content_type", ""), content))
    body = (
        (raw.get("plain_body") or "").strip()
        or _text(raw.get("html_body"), "html")
        or (raw.get("body") or "").strip()
    )
    if not body and not files:
        problems.append(_("%s: no text and no files") % ref)
    if created is None or author is None:
        return None
    # An end-user (the requester or one copied in) writes as the client; a private
    # comment by an end-user is kept as a note.
    public = raw.get("public", True)
    sender = "agent" if author.is_agent else ("client" if public else "system")
    channel = ZENDESK_CHANNELS.get(str((raw.get("via") or {}).get("channel") or ""))
    return Article(
        external_id=str(raw.get("id")),
        created_at=created,
        author=author,
        sender=sender,
        internal=not raw.get("public", True),
        channel=channel,
        body=body,
        files=files,
    )


def read_zendesk(paths: list[Path]) -> Export:
    tickets, people, group_names = [], {}, {}
    for path in paths:
        data = _load(path, "tickets")
        for user in data.get("users") or []:
            person = _zendesk_person(user)
            people[person.external_id] = person
        for group in data.get("groups") or []:
            group_names[str(group.get("id"))] = group.get("name") or ""
        tickets.extend((raw, path.parent) for raw in data["tickets"])
    result = []
    for raw, folder in tickets:
        problems: list[str] = []
        ticket = Ticket(
            external_id=str(raw.get("id") or ""),
            number=str(raw.get("id") or ""),
            subject=(raw.get("subject") or raw.get("raw_subject") or "").strip(),
        )
        if not ticket.external_id:
            problems.append(_("the ticket has no id"))
        status = raw.get("status")
        if status not in ZENDESK_STATUSES:
            problems.append(_("status %r is not imported") % status)
        ticket.status = ZENDESK_STATUSES.get(status, "")
        if raw.get("priority") not in ZENDESK_PRIORITIES:
            problems.append(_("unknown priority %r") % raw.get("priority"))
        ticket.priority = ZENDESK_PRIORITIES.get(raw.get("priority"), Priority.NORMAL)
        if raw.get("group_id") is not None:
            ticket.group = group_names.get(str(raw["group_id"]), "")
            if not ticket.group:
                problems.append(_("group %r is not among the groups") % raw["group_id"])
        requester = str(raw.get("requester_id"))
        ticket.customer = people.get(requester)
        if ticket.customer is None:
            problems.append(_("requester %r is not among the users") % raw.get("requester_id"))
        ticket.owner = people.get(str(raw.get("assignee_id")))
        ticket.created_at = _when(raw.get("created_at"), "created_at", problems)
        ticket.updated_at = _when(raw.get("updated_at") or raw.get("created_at"), "updated_at", [])
        if ticket.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            ticket.closed_at = ticket.updated_at
        for comment in raw.get("comments") or []:
            read = _zendesk_comment(comment, people, folder, problems)
            if read is not None:
                ticket.articles.append(read)
        if not ticket.articles:
            problems.append(_("the ticket has no comments"))
        via = str((raw.get("via") or {}).get("channel") or "")
        ticket.channel = ZENDESK_CHANNELS.get(via, ChannelKind.EMAIL)
        ticket.problems = problems
        result.append(ticket)
    agents = {k: p for k, p in people.items() if p.is_agent}
    return Export("zendesk", result, agents, {g for g in group_names.values() if g})


READERS = {"zammad": read_zammad, "zendesk": read_zendesk}
