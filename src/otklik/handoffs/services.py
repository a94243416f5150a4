"""Writes on handoffs: send, take, ask the owner, reply, answer, cancel; watching a case.

The owner keeps control: every change is recorded as a `HandoffEvent`, and the owner and
the case's watchers (except whoever made the change) get a live event in the workspace
and an e-mail, both written in the same transaction as the change.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otklik.accounts.models import Department, Role, User
from otklik.audit.services import audit_record
from otklik.cases.lifecycle import TRANSITIONS
from otklik.cases.models import Case, CaseEvent, CaseStatus, EventKind, MessageVisibility
from otklik.cases.selectors import cases_visible_q
from otklik.cases.services import case_transition, message_add
from otklik.clients.models import ContactPoint
from otklik.clients.services import contact_point_set_reachability
from otklik.common.errors import ConflictError, ServiceError
from otklik.common.links import absolute_url
from otklik.common.phones import format_phone
from otklik.common.redaction import redact
from otklik.handoffs.files import CheckedFile, check_uploads
from otklik.handoffs.models import (
    CaseWatch,
    Handoff,
    HandoffAttachment,
    HandoffEvent,
    HandoffEventKind,
    HandoffStatus,
)
from otklik.handoffs.selectors import (
    ACTIVE_STATUSES,
    HANDOFF_ANSWER,
    can_control_case,
    can_watch_case,
    can_work_handoff,
    case_watcher_ids,
)
from otklik.live.services import publish
from otklik.notifications.services import notify

MAX_TEXT = 5_000
VIA = "workspace"


# --- helpers ---------------------------------------------------------------------------


def _text(value: str, field: str, empty_message: str) -> str:
    """The text as it may be stored: not empty, not too long, identifiers redacted."""
    value = (value or "").strip()
    if not value:
        raise ServiceError({field: empty_message})
    if len(value) > MAX_TEXT:
        raise ServiceError({field: _("The text is longer than 5 000 characters.")})
    return redact(value)


def _require_worker(actor: User, handoff: Handoff) -> None:
    if not can_work_handoff(user=actor, handoff=handoff):
        raise ServiceError(
            {
                "handoff": _("Only specialists of %(department)s work this handoff.")
                % {"department": handoff.department.name}
            }
        )


def _require_controller(actor: User, case: Case) -> None:
    if not can_control_case(user=actor, case=case):
        raise ServiceError(
            {"case": _("Only the case owner, the case's team or a watcher can do this.")}
        )


def _move(handoff: Handoff, *, from_statuses: Iterable[str], **fields) -> None:
    """Change the handoff only if it is still in one of `from_statuses`.

    The one status check of every step: the update is conditional, so of two people acting
    at once only one succeeds (no double take), and whoever comes too late, or acts on a
    stale page, is told the status the handoff has now.
    """
    changed = Handoff.objects.filter(pk=handoff.pk, status__in=list(from_statuses)).update(**fields)
    if changed != 1:
        handoff.refresh_from_db(fields=["status"])
        raise ConflictError(
            {
                "status": _("The handoff is already «%(status)s»; reload the page.")
                % {"status": handoff.get_status_display()}
            }
        )
    for name, value in fields.items():
        setattr(handoff, name, value)


@contextmanager
def _files_removed_on_error(stored: list[str]) -> Iterator[None]:
    """Delete files already written if the change fails, so a refusal leaves nothing behind."""
    try:
        yield
    except Exception:
        for path in stored:
            default_storage.delete(path)
        raise


def _store(
    handoff: Handoff,
    event: HandoffEvent,
    files: list[CheckedFile],
    actor: User,
    now: datetime,
    stored: list[str],
) -> list[HandoffAttachment]:
    attachments = []
    for checked in files:
        attachment = HandoffAttachment(
            handoff=handoff,
            event=event,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=actor,
            created_at=now,
        )
        attachment.file.save(checked.name, ContentFile(checked.content), save=False)
        stored.append(attachment.file.name)
        attachment.save()
        attachments.append(attachment)
    return attachments


def _event(
    handoff: Handoff, actor: User | None, kind: str, text: str, now: datetime
) -> HandoffEvent:
    return HandoffEvent.objects.create(
        handoff=handoff, actor=actor, kind=kind, text=text, created_at=now
    )


def _case_event(case: Case, actor: User | None, field: str, value: str, now: datetime) -> None:
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=EventKind.HANDOFF,
        field=field,
        new_value=value[:300],
        created_at=now,
    )


def _headline(kind: str, handoff: Handoff) -> str:
    """The one-line news of a change, in the installation's language (Russian by default)."""
    params = {"department": handoff.department.name, "ref": handoff.case.reference}
    with translation.override(settings.LANGUAGE_CODE):
        templates = {
            HandoffEventKind.SENT: _("Handoff to %(department)s on case %(ref)s"),
            HandoffEventKind.TAKEN: _("%(department)s took the handoff on case %(ref)s"),
            HandoffEventKind.QUESTION: _("%(department)s asks the owner about case %(ref)s"),
            HandoffEventKind.REPLY: _("Owner replied to %(department)s on case %(ref)s"),
            HandoffEventKind.ANSWERED: _("%(department)s answered on case %(ref)s"),
            HandoffEventKind.CANCELLED: _("Handoff to %(department)s on case %(ref)s cancelled"),
        }
        return str(templates[kind] % params)


def _announce(
    *,
    handoff: Handoff,
    event: HandoffEvent,
    actor: User | None,
    extra_user_ids: Iterable[int] = (),
) -> None:
    """Tell the owner and the watchers (and `extra_user_ids`) about a change, not the actor.

    One live event and one e-mail per recipient and change: the e-mail's key carries the
    event id, so a retried request cannot queue a second copy.
    """
    case = handoff.case
    ids = {case.owner_id, *case_watcher_ids(case=case), *extra_user_ids}
    ids.discard(None)
    if actor is not None:
        ids.discard(actor.pk)
    recipients = list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))
    if not recipients:
        return
    headline = _headline(event.kind, handoff)
    handoff_url = reverse("handoffs:detail", args=[handoff.pk])
    case_url = reverse("workspace:case_detail", args=[case.pk])
    payload = {"handoff_id": handoff.pk, "event": event.kind, "url": case_url}
    publish(
        user_ids=[u.pk for u in recipients],
        kind=f"handoff.{event.kind}",
        text=headline,
        case=case,
        payload=payload,
    )
    with translation.override(settings.LANGUAGE_CODE):
        lines = [headline, ""]
        if event.text:
            lines += [event.text, ""]
        if actor is not None:
            lines.append(_("By: %(name)s") % {"name": actor.display_name})
        lines.append(_("Case: %(url)s") % {"url": absolute_url(case_url)})
        lines.append(_("Handoff: %(url)s") % {"url": absolute_url(handoff_url)})
    body = "\n".join(lines)
    for user in recipients:
        if not user.email:
            continue
        notify(
            key=f"handoff-{handoff.pk}-{event.kind}-{event.pk}-{user.pk}",
            channel="email",
            address=user.email,
            subject=headline,
            body=body,
            user=user,
            case=case,
            payload=payload,
        )


def _watch(case: Case, user: User | None, now: datetime) -> None:
    if user is None or user.role == Role.SPECIALIST:
        return
    try:
        with transaction.atomic():
            CaseWatch.objects.get_or_create(case=case, user=user, defaults={"created_at": now})
    except IntegrityError:  # watched meanwhile by a parallel request: that is the goal
        pass


def _after_last_handoff(case: Case, actor: User | None, now: datetime) -> None:
    """When no question is left with a department, the case is back with its owner."""
    case.refresh_from_db(fields=["status", "is_open", "updated_at", "resolved_at", "closed_at"])
    if case.status != CaseStatus.WAITING_DEPARTMENT:
        return
    if Handoff.objects.filter(case=case, status__in=ACTIVE_STATUSES).exists():
        return
    case_transition(actor=actor, case=case, to_status=CaseStatus.IN_PROGRESS, now=now)


# --- the workflow ----------------------------------------------------------------------


@transaction.atomic
def handoff_send(
    *,
    actor: User,
    case: Case,
    department: Department,
    question: str,
    files: Iterable = (),
    now: datetime | None = None,
) -> Handoff:
    """Send a question (with files) to a department and start its answer deadline.

    The department's specialists can now see the case; the case waits for the department;
    the owner and the sender take the case on control.
    """
    from otklik.sla.services import deadline_start

    _require_controller(actor, case)
    if not case.is_open:
        raise ServiceError({"case": _("The case is finished; reopen it to ask a department.")})
    question = _text(question, "question", _("Write the question for the department."))
    checked = check_uploads(files)
    now = now or timezone.now()
    stored: list[str] = []
    with _files_removed_on_error(stored):
        handoff = Handoff.objects.create(
            case=case, department=department, question=question, created_by=actor, created_at=now
        )
        event = _event(handoff, actor, HandoffEventKind.SENT, question, now)
        _store(handoff, event, checked, actor, now, stored)
        deadline = deadline_start(case=case, kind=HANDOFF_ANSWER, handoff=handoff, start=now)
        handoff.due_at = deadline.due_at  # the stored row: sla.services keeps it in step
        _case_event(case, actor, "department", department.name, now)
        if CaseStatus.WAITING_DEPARTMENT in TRANSITIONS[case.status]:  # not if already waiting
            case_transition(
                actor=actor, case=case, to_status=CaseStatus.WAITING_DEPARTMENT, now=now
            )
        _watch(case, case.owner, now)
        _watch(case, actor, now)
        _announce(handoff=handoff, event=event, actor=actor)
        specialists = User.objects.filter(
            department=department, role=Role.SPECIALIST, is_active=True
        ).values_list("pk", flat=True)
        publish(
            user_ids=[pk for pk in specialists if pk != actor.pk],
            kind="handoff.new",
            text=_headline(HandoffEventKind.SENT, handoff),
            case=case,
            payload={
                "handoff_id": handoff.pk,
                "url": reverse("handoffs:detail", args=[handoff.pk]),
            },
        )
    return handoff


@transaction.atomic
def handoff_take(*, actor: User, handoff: Handoff, now: datetime | None = None) -> Handoff:
    """A specialist of the department takes the handoff into work."""
    _require_worker(actor, handoff)
    now = now or timezone.now()
    _move(handoff, from_statuses=[HandoffStatus.OPEN], status=HandoffStatus.IN_WORK, assignee=actor)
    event = _event(handoff, actor, HandoffEventKind.TAKEN, "", now)
    _announce(handoff=handoff, event=event, actor=actor)
    return handoff


@transaction.atomic
def handoff_ask_owner(
    *, actor: User, handoff: Handoff, question: str, now: datetime | None = None
) -> Handoff:
    """The specialist needs something from the owner; the handoff waits for the reply."""
    _require_worker(actor, handoff)
    question = _text(question, "question", _("Write what you need from the owner."))
    now = now or timezone.now()
    _move(
        handoff,
        from_statuses=[HandoffStatus.OPEN, HandoffStatus.IN_WORK],
        status=HandoffStatus.QUESTION,
        assignee=handoff.assignee or actor,
    )
    event = _event(handoff, actor, HandoffEventKind.QUESTION, question, now)
    _announce(handoff=handoff, event=event, actor=actor)
    return handoff


@transaction.atomic
def handoff_owner_reply(
    *, actor: User, handoff: Handoff, reply: str, now: datetime | None = None
) -> Handoff:
    """The owner (or a watcher, or the team) answers the specialist; work goes on."""
    _require_controller(actor, handoff.case)
    reply = _text(reply, "reply", _("Write the reply for the department."))
    now = now or timezone.now()
    _move(handoff, from_statuses=[HandoffStatus.QUESTION], status=HandoffStatus.IN_WORK)
    event = _event(handoff, actor, HandoffEventKind.REPLY, reply, now)
    _announce(handoff=handoff, event=event, actor=actor, extra_user_ids=[handoff.assignee_id])
    return handoff


@transaction.atomic
def handoff_answer(
    *,
    actor: User,
    handoff: Handoff,
    answer: str,
    files: Iterable = (),
    now: datetime | None = None,
) -> Handoff:
    """The department answers: the answer lands on the case and the clock stops.

    When it was the last open handoff of a case waiting for a department, the case goes
    back to «in progress» with its owner.
    """
    from otklik.sla.services import deadline_meet

    _require_worker(actor, handoff)
    answer = _text(answer, "answer", _("Write the department's answer."))
    checked = check_uploads(files)
    now = now or timezone.now()
    stored: list[str] = []
    with _files_removed_on_error(stored):
        _move(
            handoff,
            from_statuses=ACTIVE_STATUSES,
            status=HandoffStatus.ANSWERED,
            answer=answer,
            answered_at=now,
            assignee=handoff.assignee or actor,
        )
        event = _event(handoff, actor, HandoffEventKind.ANSWERED, answer, now)
        attachments = _store(handoff, event, checked, actor, now, stored)
        case = handoff.case
        with translation.override(settings.LANGUAGE_CODE):
            body = _("Answer from %(department)s:") % {"department": handoff.department.name}
            body = f"{body}\n{answer}"
            if attachments:
                files_line = _("Files: %(names)s") % {
                    "names": ", ".join(a.name for a in attachments)
                }
                body = f"{body}\n{files_line}"
        message_add(
            actor=actor, case=case, body=body, visibility=MessageVisibility.INTERNAL, now=now
        )
        _case_event(case, actor, "answered", handoff.department.name, now)
        deadline_meet(case=case, kind=HANDOFF_ANSWER, handoff=handoff, at=now)
        _after_last_handoff(case, None, now)
        _announce(handoff=handoff, event=event, actor=actor)
    return handoff


@transaction.atomic
def handoff_cancel(
    *, actor: User, handoff: Handoff, reason: str = "", now: datetime | None = None
) -> Handoff:
    """The owner no longer needs the answer (e.g. the client solved it in the chat)."""
    _require_controller(actor, handoff.case)
    now = now or timezone.now()
    reason = (reason or "").strip()[:MAX_TEXT]
    _move(handoff, from_statuses=ACTIVE_STATUSES, status=HandoffStatus.CANCELLED)
    event = _event(handoff, actor, HandoffEventKind.CANCELLED, reason, now)
    _stop_clock(handoff, now)
    _case_event(handoff.case, actor, "cancelled", handoff.department.name, now)
    _after_last_handoff(handoff.case, actor, now)
    _announce(handoff=handoff, event=event, actor=actor, extra_user_ids=[handoff.assignee_id])
    return handoff


def _stop_clock(handoff: Handoff, now: datetime) -> None:
    """A cancelled handoff's deadline is cancelled, not met (metrics must not count it)."""
    from otklik.sla.services import deadline_cancel

    deadline_cancel(case=handoff.case, kind=HANDOFF_ANSWER, handoff=handoff, at=now)


# --- watching --------------------------------------------------------------------------


@transaction.atomic
def case_watch(*, actor: User, case: Case, now: datetime | None = None) -> CaseWatch:
    """«Взять на контроль»: be told of every change to the case's handoffs."""
    if not can_watch_case(user=actor, case=case):
        raise ServiceError(
            {"case": _("Department specialists follow the case through the handoff.")}
        )
    watch, _created = CaseWatch.objects.get_or_create(
        case=case, user=actor, defaults={"created_at": now or timezone.now()}
    )
    return watch


@transaction.atomic
def case_unwatch(*, actor: User, case: Case) -> None:
    CaseWatch.objects.filter(case=case, user=actor).delete()


# --- reachability ----------------------------------------------------------------------


@transaction.atomic
def case_contact_set_reachability(
    *,
    actor: User,
    case: Case,
    contact: ContactPoint,
    reachability: str,
    note: str = "",
    now: datetime | None = None,
) -> ContactPoint:
    """Anyone on the case (a department specialist too) records how the client can be reached.

    E.g. «за границей: звонки с коротких номеров не проходят». Written to the case history
    and the personal-data log; the owner, watchers and the specialists working the case's
    handoffs see it live.
    """
    if not Case.objects.filter(cases_visible_q(actor), pk=case.pk).exists():
        raise ServiceError({"case": _("You cannot see this case.")})
    if contact.client_id != case.client_id:
        raise ServiceError({"contact": _("This contact belongs to another client.")})
    now = now or timezone.now()  # an unknown value: refused by the clients service, below
    label = f"{contact.get_kind_display()} {format_phone(contact.value)}"
    old = f"{contact.get_reachability_display()} {contact.reachability_note}".strip()
    contact = contact_point_set_reachability(contact=contact, reachability=reachability, note=note)
    new = f"{contact.get_reachability_display()} {contact.reachability_note}".strip()
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=EventKind.FIELD_CHANGED,
        field="reachability",
        old_value=f"{label}: {old}"[:300],
        new_value=f"{label}: {new}"[:300],
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="contact.reachability",
        via=VIA,
        client_id=case.client_id,
        obj=contact,
        detail=new,
    )
    assignees = Handoff.objects.filter(
        case=case, status__in=ACTIVE_STATUSES, assignee__isnull=False
    ).values_list("assignee_id", flat=True)
    ids = {case.owner_id, *case_watcher_ids(case=case), *assignees}
    ids.discard(None)
    ids.discard(actor.pk)
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Client reachability changed on case %(ref)s: %(value)s") % {
            "ref": case.reference,
            "value": new,
        }
    publish(user_ids=sorted(ids), kind="case.reachability", text=text, case=case)
    return contact
