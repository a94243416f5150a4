"""Writes on cases: intake, lifecycle, fields and messages. Each records history."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, Team, User
from otklik.cases.lifecycle import REOPEN_FROM, TRANSITIONS, is_open, refusal_message
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
    Priority,
    Topic,
)
from otklik.cases.selectors import can_edit_case, can_open_cases
from otklik.clients.models import ChannelKind, Client
from otklik.common.errors import ConflictError, NotAllowed, ServiceError
from otklik.common.redaction import redact

MAX_SUBJECT = 300
MAX_BODY = 20_000


def _new_event(
    case: Case,
    actor: User | None,
    kind: str,
    *,
    field: str = "",
    old: object = "",
    new: object = "",
    at: datetime | None = None,
) -> CaseEvent:
    """An unsaved history row (several are inserted together where a change makes many)."""
    return CaseEvent(
        case=case,
        actor=actor,
        kind=kind,
        field=field,
        old_value=str(old or "")[:300],
        new_value=str(new or "")[:300],
        created_at=at or timezone.now(),
    )


def _event(case: Case, actor: User | None, kind: str, **values) -> CaseEvent:
    event = _new_event(case, actor, kind, **values)
    event.save(force_insert=True)
    return event


def _check_body(body: str) -> str:
    """The text as it may be stored: not empty, not too long, identifiers redacted."""
    body = (body or "").strip()
    if not body:
        raise ServiceError({"body": _("The message is empty.")})
    if len(body) > MAX_BODY:
        raise ServiceError({"body": _("The message is longer than 20 000 characters.")})
    return redact(body)


def _check_channel(channel: str) -> str:
    if channel not in ChannelKind.values:
        raise ServiceError({"channel": _("Unknown channel «%(channel)s».") % {"channel": channel}})
    return channel


def _check_priority(priority: int) -> int:
    if priority not in Priority.values:
        raise ServiceError({"priority": _("Priority must be one of 1, 2, 3, 4.")})
    return priority


def _check_subject(subject: str) -> str:
    subject = (subject or "").strip()
    if not subject:
        raise ServiceError({"subject": _("Describe what the client asks about.")})
    if len(subject) > MAX_SUBJECT:
        raise ServiceError({"subject": _("The subject is longer than 300 characters.")})
    return redact(subject)


def _require_editor(actor: User, case: Case) -> None:
    if not can_edit_case(user=actor, case=case):
        raise NotAllowed(
            {"case": _("Department specialists answer through the handoff, not on the case.")}
        )


@dataclass(frozen=True)
class CaseDraft:
    """What a new case is opened with; `case_open` explains the defaults."""

    client: Client
    subject: str
    channel: str
    topic: Topic | None = None
    priority: int = Priority.NORMAL
    team: Team | None = None
    owner: User | None = None
    description: str = ""


def case_open(
    *,
    actor: User | None,
    client: Client,
    subject: str,
    channel: str,
    topic: Topic | None = None,
    priority: int = Priority.NORMAL,
    team: Team | None = None,
    owner: User | None = None,
    description: str = "",
    now: datetime | None = None,
) -> Case:
    """Open a case for a client. The actor owns it unless another owner is given.

    `actor` is None when the client opens the case themselves (the portal): nobody owns
    it yet and it goes to the given team or the topic's default team. A description is
    the first internal note; staff writing it takes the new case into work.
    """
    draft = CaseDraft(
        client=client,
        subject=subject,
        channel=channel,
        topic=topic,
        priority=priority,
        team=team,
        owner=owner,
        description=description,
    )
    return cases_open(actor=actor, drafts=[draft], now=now, numbered=False)[0]


def _prepare_case(actor: User | None, draft: CaseDraft, now: datetime) -> tuple[Case, str]:
    """The unsaved case in its opening status, and its first note; refuses bad input."""
    topic = draft.topic
    if topic is not None and not topic.is_active:
        raise ServiceError({"topic_id": _("This topic is archived.")})
    case = Case(
        client=draft.client,
        subject=_check_subject(draft.subject),
        channel=_check_channel(draft.channel),
        topic=topic,
        priority=_check_priority(draft.priority),
        team=draft.team
        or (topic.default_team if topic else None)
        or (actor.team if actor else None),
        owner=draft.owner
        if draft.owner is not None
        else (actor if actor is not None and actor.role != Role.SPECIALIST else None),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    note = _check_body(draft.description) if draft.description.strip() else ""
    # Exactly what `message_add` would do with the note on a new case, decided up front
    # so the case is inserted once, in its final status.
    if note and (actor is None or can_edit_case(user=actor, case=case)):
        case.status = CaseStatus.IN_PROGRESS
    return case, note


def _opening_history(case: Case, actor: User | None, note: str, now: datetime) -> list[CaseEvent]:
    history = [_new_event(case, actor, EventKind.CREATED, new=case.subject, at=now)]
    if note:
        history.append(
            _new_event(
                case, actor, EventKind.MESSAGE_ADDED, field="visibility", new="internal", at=now
            )
        )
    if case.status == CaseStatus.IN_PROGRESS:
        history.append(
            _new_event(
                case,
                actor,
                EventKind.STATUS_CHANGED,
                field="status",
                old=CaseStatus.NEW,
                new=CaseStatus.IN_PROGRESS,
                at=now,
            )
        )
    return history


@transaction.atomic
def cases_open(
    *,
    actor: User | None,
    drafts: Sequence[CaseDraft],
    now: datetime | None = None,
    numbered: bool = True,
) -> list[Case]:
    """Open several cases at once (an intake gateway's batch): all of them or none.

    Every case gets what `case_open` gives one (note, history, SLA clocks); the rows of
    the batch are inserted together, a handful of statements however many cases. A
    refusal names the draft: "cases.3.topic_id" (`numbered=False`: just "topic_id").
    """
    from otklik.sla.services import plan_case_clocks, start_planned_clocks  # sla imports cases

    now = now or timezone.now()
    if actor is not None and not can_open_cases(user=actor):
        raise NotAllowed(
            {"case": _("Department specialists answer through the handoff, not on the case.")}
        )
    prepared = []
    for position, draft in enumerate(drafts):
        try:
            case, note = _prepare_case(actor, draft, now)
        except ServiceError as exc:
            if not numbered:
                raise
            raise ServiceError(
                {f"cases.{position}.{field}": errors for field, errors in exc.message_dict.items()}
            ) from exc
        prepared.append((case, note))
    clocks = plan_case_clocks(cases=[case for case, _note in prepared], at=now)  # sets due_at
    cases = Case.objects.bulk_create([case for case, _note in prepared])
    Message.objects.bulk_create(
        Message(
            case=case,
            author_kind=AuthorKind.STAFF,
            author=actor,
            visibility=MessageVisibility.INTERNAL,
            body=note,
            created_at=now,
        )
        for case, note in prepared
        if note
    )
    CaseEvent.objects.bulk_create(
        event for case, note in prepared for event in _opening_history(case, actor, note, now)
    )
    start_planned_clocks(clocks)
    return cases


@transaction.atomic
def interaction_register(
    *,
    actor: User,
    client: Client,
    channel: str,
    case: Case | None = None,
    new_case_subject: str = "",
    topic: Topic | None = None,
    priority: int = Priority.NORMAL,
    direction: str = Direction.INBOUND,
    summary: str = "",
    external_ref: str = "",
    now: datetime | None = None,
    ended_at: datetime | None = None,
    queue_seconds: int | None = None,
    wrap_up_seconds: int | None = None,
) -> Interaction:
    """Register a call/chat/e-mail and attach it to an open case or a new one.

    Pass `case` to continue an existing case, or `new_case_subject` to open one. Telephony
    may pass the queue wait and after-contact work (they feed SL, ASA and AHT).
    """
    now = now or timezone.now()
    _check_channel(channel)
    if direction not in Direction.values:
        raise ServiceError({"direction": _("Direction must be inbound or outbound.")})
    if case is not None and new_case_subject:
        raise ServiceError({"case_id": _("Either continue a case or open a new one, not both.")})
    if case is None and not new_case_subject.strip():
        raise ServiceError({"subject": _("Describe what the client asks about.")})
    if case is not None and case.client_id != client.pk:
        raise ServiceError({"case_id": _("This case belongs to another client.")})
    if case is None:
        case = case_open(
            actor=actor,
            client=client,
            subject=new_case_subject,
            channel=channel,
            topic=topic,
            priority=priority,
            now=now,
        )
    else:
        _require_editor(actor, case)
        if not is_open(case.status):
            case_transition(actor=actor, case=case, to_status=CaseStatus.IN_PROGRESS, now=now)
    interaction = Interaction.objects.create(
        client=client,
        case=case,
        channel=channel,
        direction=direction,
        operator=actor,
        summary=redact(summary.strip()),
        external_ref=external_ref.strip()[:100],
        started_at=now,
        ended_at=ended_at,
        queue_seconds=queue_seconds,
        wrap_up_seconds=wrap_up_seconds,
    )
    _event(case, actor, EventKind.INTERACTION_LINKED, field="channel", new=channel, at=now)
    Case.objects.filter(pk=case.pk).update(updated_at=now)
    return interaction


@transaction.atomic
def case_transition(
    *, actor: User | None, case: Case, to_status: str, now: datetime | None = None
) -> Case:
    """Move a case to another status if the lifecycle allows it; record the change.

    The update is conditional on the status the caller saw, so two operators acting at
    once cannot both succeed from the same state.
    """
    now = now or timezone.now()
    if actor is not None:
        _require_editor(actor, case)
    if to_status not in CaseStatus.values:
        raise ServiceError({"status": _("Unknown status «%(s)s».") % {"s": to_status}})
    current = case.status
    if to_status not in TRANSITIONS[current]:
        raise ServiceError({"status": refusal_message(current, to_status)})
    fields = {"status": to_status, "is_open": is_open(to_status), "updated_at": now}
    if to_status == CaseStatus.RESOLVED:
        fields["resolved_at"] = now
    elif to_status == CaseStatus.CLOSED:
        fields["closed_at"] = now
    elif current in REOPEN_FROM:
        fields["resolved_at"] = None
        fields["closed_at"] = None
    changed = Case.objects.filter(pk=case.pk, status=current).update(**fields)
    if changed != 1:
        raise ConflictError({"status": _("The case was changed by someone else; reload it.")})
    for name, value in fields.items():
        setattr(case, name, value)
    reopened = current in REOPEN_FROM and is_open(to_status)
    kind = EventKind.REOPENED if reopened else EventKind.STATUS_CHANGED
    _event(case, actor, kind, field="status", old=current, new=to_status, at=now)
    from otklik.sla.services import on_status_changed

    on_status_changed(case=case, old=current, new=to_status, at=now)
    return case


EDITABLE_FIELDS = ("subject", "topic", "priority", "owner", "team")


@transaction.atomic
def case_update(*, actor: User, case: Case, now: datetime | None = None, **changes) -> Case:
    """Change subject, topic, priority, owner or team; one history row per changed field."""
    _require_editor(actor, case)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ServiceError({name: _("This field cannot be changed here.") for name in unknown})
    now = now or timezone.now()
    if "subject" in changes:
        changes["subject"] = _check_subject(changes["subject"])
    if "priority" in changes:
        changes["priority"] = _check_priority(changes["priority"])
    if "topic" in changes and changes["topic"] is not None and not changes["topic"].is_active:
        raise ServiceError({"topic_id": _("This topic is archived.")})
    owner = changes.get("owner")
    if owner is not None and owner.pk != case.owner_id:
        team = changes.get("team", case.team)
        if owner.role == Role.SPECIALIST or team is None or owner.team_id != team.pk:
            # The workspace offers exactly these people (case_owner_choices).
            raise ServiceError(
                {"owner_id": _("The owner must be front-line staff of the case's team.")}
            )
    changed = []
    for name, new in changes.items():
        old = getattr(case, name)
        if old == new:
            continue
        setattr(case, name, new)
        changed.append(name)
        old_label = case._meta.get_field(name)
        _event(
            case,
            actor,
            EventKind.FIELD_CHANGED,
            field=name,
            old=_display(old_label, old),
            new=_display(old_label, new),
            at=now,
        )
    if changed:
        case.updated_at = now
        case.save(update_fields=[*changed, "updated_at"])
    return case


def _display(field, value) -> str:
    if value is None:
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


@transaction.atomic
def message_add(
    *,
    actor: User | None,
    case: Case,
    body: str,
    visibility: str,
    interaction: Interaction | None = None,
    author_kind: str = AuthorKind.STAFF,
    now: datetime | None = None,
) -> Message:
    """Add an internal note or a client-visible reply.

    Staff working a new case takes it into work; a client writing on a finished case
    reopens it.
    """
    now = now or timezone.now()
    body = _check_body(body)
    if visibility not in MessageVisibility.values:
        raise ServiceError({"visibility": _("Visibility must be internal or public.")})
    if author_kind == AuthorKind.CLIENT and visibility != MessageVisibility.PUBLIC:
        raise ServiceError({"visibility": _("A client's message is always public.")})
    if author_kind == AuthorKind.STAFF and actor is not None and visibility == "public":
        _require_editor(actor, case)
    message = Message.objects.create(
        case=case,
        interaction=interaction,
        author_kind=author_kind,
        author=actor if author_kind == AuthorKind.STAFF else None,
        visibility=visibility,
        body=body,
        created_at=now,
    )
    _event(case, actor, EventKind.MESSAGE_ADDED, field="visibility", new=visibility, at=now)
    if (
        author_kind == AuthorKind.STAFF
        and case.status == CaseStatus.NEW
        and (actor is None or can_edit_case(user=actor, case=case))
    ):
        case_transition(actor=actor, case=case, to_status=CaseStatus.IN_PROGRESS, now=now)
    elif author_kind == AuthorKind.CLIENT and case.status in (
        CaseStatus.ANSWERED,
        CaseStatus.WAITING_CLIENT,
        CaseStatus.RESOLVED,
        CaseStatus.CLOSED,
    ):
        case_transition(actor=None, case=case, to_status=CaseStatus.IN_PROGRESS, now=now)
    else:
        Case.objects.filter(pk=case.pk).update(updated_at=now)
    from otklik.sla.services import on_message_added

    on_message_added(case=case, message=message, at=now)
    return message


@transaction.atomic
def topic_merge(*, source: Topic, into: Topic) -> Topic:
    """Fold a near-duplicate topic into another («Автообмен» into «Автообмен валюты»).

    Everything pointing at `source` (cases, SLA policies, articles, child topics) is moved to
    `into`, then `source` is deleted; the topics cache is told through the model signals.
    """
    if source.pk == into.pk:
        raise ServiceError({"topic": _("A topic cannot be merged into itself.")})
    for relation in Topic._meta.related_objects:
        if relation.many_to_many:
            through = relation.through
            source_field = relation.field.m2m_reverse_field_name()
            owner_field = relation.field.m2m_field_name()
            rows = through.objects.filter(**{source_field: source.pk})
            for owner_id in rows.values_list(f"{owner_field}_id", flat=True):
                through.objects.get_or_create(**{f"{owner_field}_id": owner_id, source_field: into})
            rows.delete()
        else:
            relation.related_model._default_manager.filter(**{relation.field.name: source}).update(
                **{relation.field.name: into}
            )
    source.delete()
    return into
