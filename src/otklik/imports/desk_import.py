"""Tickets of another desk (read by `desk_formats`) into cases, messages and interactions.

Before anything is written, the old desk's agents are mapped to our staff (a mapping
file, else the same e-mail) and its groups to our teams (a mapping file, else the same
name); if any is left unmapped the run stops and names them, unless told to go on
without them (`allow_unmapped`: no owner, no team, the author's name kept in the text).

Each ticket is then one transaction: its client (matched by an earlier import, e-mail or
phone, else created), the case with its old status, priority and dates, one message per
article (client messages and public replies also as interactions on their channel),
the files, the history rows and the record of its external id. A ticket that cannot be
read or stored whole is refused with its reasons and nothing of it stays; the others go
on. A re-run skips the tickets already recorded, so it changes nothing, and a run that
was cut off resumes where it stopped.

A historic case starts no SLA clock and sends nothing to anybody: it happened already.
"""

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from otklik.accounts.models import Team, User
from otklik.cases.lifecycle import is_open
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    CaseStatus,
    Direction,
    EventKind,
    Interaction,
    Message,
    MessageVisibility,
)
from otklik.clients.models import ChannelKind, Client, ContactPoint
from otklik.clients.services import client_create
from otklik.common.errors import ServiceError
from otklik.common.phones import phone_digits
from otklik.common.redaction import redact
from otklik.common.uploads import check_upload, content_types
from otklik.imports.desk_formats import Export, Person, Ticket
from otklik.imports.models import ImportedFile, ImportedRecord
from otklik.mail.inbound import client_by_address

FILE_TYPES = content_types("pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "docx")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_SUBJECT = 300

Progress = Callable[[int, int], None]


@dataclass
class TicketOutcome:
    external_id: str
    number: str
    reasons: list[str]


@dataclass
class DeskReport:
    source: str
    total: int = 0
    imported: int = 0
    skipped: int = 0  # recorded by an earlier run
    rejected: list[TicketOutcome] = field(default_factory=list)
    clients_created: int = 0
    clients_matched: int = 0
    files: int = 0
    unmapped_agents: Counter = field(default_factory=Counter)  # label → tickets
    unmapped_groups: Counter = field(default_factory=Counter)  # name → tickets
    stopped: bool = False  # unmapped agents or groups: nothing was applied


@dataclass
class Mapping:
    """From a JSON file: {"agents": {"their e-mail or id": "our username or e-mail"},
    "groups": {"their group": "our team"}}."""

    agents: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Mapping":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ServiceError({"mapping": _("The mapping file cannot be read: %s") % exc}) from exc
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k, {}), dict) for k in ("agents", "groups")
        ):
            raise ServiceError(
                {"mapping": _("The mapping file must hold the objects «agents» and «groups».")}
            )
        return cls(
            agents={str(k).lower(): str(v) for k, v in data.get("agents", {}).items()},
            groups={str(k): str(v) for k, v in data.get("groups", {}).items()},
        )


def _staff(wanted: str) -> User | None:
    return (
        User.objects.filter(Q(username__iexact=wanted) | Q(email__iexact=wanted), is_active=True)
        .order_by("pk")
        .first()
    )


def map_agents(export: Export, mapping: Mapping) -> dict[str, User | None]:
    """Their agent's id → our staff member (None: unmapped)."""
    found = {}
    for ext, agent in export.agents.items():
        wanted = mapping.agents.get(ext) or mapping.agents.get(agent.email) or agent.email
        found[ext] = _staff(wanted) if wanted else None
    return found


def map_groups(export: Export, mapping: Mapping) -> dict[str, Team | None]:
    return {
        name: Team.objects.filter(name__iexact=mapping.groups.get(name, name)).first()
        for name in export.groups
    }


def _unmapped(export: Export, agents, teams, report: DeskReport) -> None:
    for ticket in export.tickets:
        people = {a.author for a in ticket.articles if a.sender == "agent"} | {ticket.owner}
        for person in people - {None}:
            if person.is_agent and agents.get(person.external_id) is None:
                report.unmapped_agents[person.label] += 1
        if ticket.group and teams.get(ticket.group) is None:
            report.unmapped_groups[ticket.group] += 1


def _checked_files(ticket: Ticket) -> list:
    """The files as they may be stored; a refused one refuses the ticket (nothing lost)."""
    checked = []
    for article in ticket.articles:
        for item in article.files:
            upload = ContentFile(item.content, name=item.name)
            result = check_upload(
                upload,
                field="file",
                allowed=FILE_TYPES,
                max_bytes=MAX_FILE_BYTES,
                too_big=_("The file «%(name)s» is larger than %(mb)s MB."),
                not_accepted=_("The file «%(name)s» is not accepted (type not allowed)."),
            )
            checked.append((article.external_id, result))
    return checked


def _client(source: str, person: Person, report: DeskReport) -> Client:
    record = ImportedRecord.objects.filter(
        source=source, kind="client", external_id=person.external_id
    ).first()
    if record is not None:
        found = Client.objects.filter(pk=record.object_id).first()
        if found is not None:
            return found
    client = client_by_address(person.email) if person.email else None
    digits = phone_digits(person.phone)
    if client is None and len(digits) == 10:
        contact = (
            ContactPoint.objects.filter(kind=ChannelKind.PHONE, value=f"+7{digits}")
            .select_related("client")
            .order_by("client_id")
            .first()
        )
        client = contact.client if contact else None
    if client is not None:
        report.clients_matched += 1
    else:
        words = person.name.split()
        client = client_create(
            last_name=(words[-1] if len(words) > 1 else person.name)[:100],
            first_name=(" ".join(words[:-1]) if len(words) > 1 else "—")[:100],
            emails=[person.email] if person.email else [],
            phones=[person.phone] if len(digits) == 10 else [],
        )
        report.clients_created += 1
    ImportedRecord.objects.update_or_create(
        source=source,
        kind="client",
        external_id=person.external_id,
        defaults={"object_id": client.pk},
    )
    return client


def _subject(ticket: Ticket) -> str:
    subject = ticket.subject or (
        ticket.articles[0].body.strip().splitlines()[0] if ticket.articles[0].body.strip() else ""
    )
    if not subject:
        raise ServiceError({"subject": _("the ticket has no subject and no text")})
    return redact(subject[:MAX_SUBJECT])


def _apply(source: str, ticket: Ticket, agents, teams, report: DeskReport, stored: list) -> Case:
    files = _checked_files(ticket)
    client = _client(source, ticket.customer, report)
    end = ticket.closed_at or ticket.updated_at or ticket.created_at
    owner = agents.get(ticket.owner.external_id) if ticket.owner else None
    case = Case.objects.create(
        client=client,
        subject=_subject(ticket),
        channel=ticket.channel,
        status=ticket.status,
        is_open=is_open(ticket.status),
        priority=ticket.priority,
        team=teams.get(ticket.group),
        owner=owner,
        created_by=None,
        created_at=ticket.created_at,
        updated_at=max(ticket.updated_at or ticket.created_at, ticket.created_at),
        resolved_at=end if ticket.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) else None,
        closed_at=end if ticket.status == CaseStatus.CLOSED else None,
    )
    history = [
        CaseEvent(
            case=case,
            kind=EventKind.CREATED,
            new_value=case.subject[:300],
            created_at=ticket.created_at,
        )
    ]
    by_article = {}
    for article in ticket.articles:
        staff = agents.get(article.author.external_id) if article.author else None
        body = redact(article.body) if article.body else ""
        if article.sender == "agent" and staff is None and article.author is not None:
            body = f"[{article.author.label}]\n{body}".strip()  # unmapped, allowed: keep the name
        if not body:
            body = _("Files: %s") % ", ".join(f.name for f in article.files)
        kind = {"client": AuthorKind.CLIENT, "agent": AuthorKind.STAFF}.get(
            article.sender, AuthorKind.SYSTEM
        )
        public = article.sender == "client" or (article.sender == "agent" and not article.internal)
        interaction = None
        if public:
            interaction = Interaction.objects.create(
                client=client,
                case=case,
                channel=article.channel or ticket.channel,
                direction=Direction.INBOUND if kind == AuthorKind.CLIENT else Direction.OUTBOUND,
                operator=staff,
                external_ref=f"{source}:{article.external_id}"[:100],
                started_at=article.created_at,
                ended_at=article.created_at,
            )
        visibility = MessageVisibility.PUBLIC if public else MessageVisibility.INTERNAL
        by_article[article.external_id] = Message.objects.create(
            case=case,
            interaction=interaction,
            author_kind=kind,
            author=staff if kind == AuthorKind.STAFF else None,
            visibility=visibility,
            body=body,
            created_at=article.created_at,
        )
        history.append(
            CaseEvent(
                case=case,
                actor=staff,
                kind=EventKind.MESSAGE_ADDED,
                field="visibility",
                new_value=visibility,
                created_at=article.created_at,
            )
        )
    if ticket.status != CaseStatus.NEW:
        history.append(
            CaseEvent(
                case=case,
                kind=EventKind.STATUS_CHANGED,
                field="status",
                old_value=CaseStatus.NEW,
                new_value=ticket.status,
                created_at=end,
            )
        )
    CaseEvent.objects.bulk_create(history)
    for article_id, checked in files:
        kept = ImportedFile(
            case=case,
            message=by_article[article_id],
            name=checked.name[:150],
            content_type=checked.content_type,
            size=checked.size,
        )
        kept.file.save(checked.name, ContentFile(checked.content), save=False)
        stored.append(kept.file.name)
        kept.save()
        report.files += 1
    ImportedRecord.objects.create(
        source=source, kind="ticket", external_id=ticket.external_id, object_id=case.pk
    )
    return case


def _reasons(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return [f"{k}: {'; '.join(v)}" for k, v in exc.message_dict.items()]
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    return [str(exc)]


def import_tickets(
    export: Export,
    *,
    mapping: Mapping | None = None,
    allow_unmapped: bool = False,
    progress: Progress | None = None,
) -> DeskReport:
    """Map, then import ticket by ticket (see the module's docstring)."""
    mapping = mapping or Mapping()
    report = DeskReport(source=export.source, total=len(export.tickets))
    agents = map_agents(export, mapping)
    teams = map_groups(export, mapping)
    _unmapped(export, agents, teams, report)
    if (report.unmapped_agents or report.unmapped_groups) and not allow_unmapped:
        report.stopped = True
        return report
    done = set(
        ImportedRecord.objects.filter(source=export.source, kind="ticket").values_list(
            "external_id", flat=True
        )
    )
    for position, ticket in enumerate(export.tickets, start=1):
        if ticket.external_id and ticket.external_id in done:
            report.skipped += 1
        elif ticket.problems:
            report.rejected.append(
                TicketOutcome(ticket.external_id, ticket.number, ticket.problems)
            )
        else:
            stored: list[str] = []
            counts = (report.clients_created, report.clients_matched, report.files)
            try:
                with transaction.atomic():
                    _apply(export.source, ticket, agents, teams, report, stored)
                report.imported += 1
                done.add(ticket.external_id)
            except (ServiceError, ValidationError, DatabaseError) as exc:
                for name in stored:  # the rows went with the rollback; the files go too
                    ImportedFile._meta.get_field("file").storage.delete(name)
                report.clients_created, report.clients_matched, report.files = counts
                report.rejected.append(
                    TicketOutcome(ticket.external_id, ticket.number, _reasons(exc))
                )
        if progress:
            progress(position, report.total)
    return report
