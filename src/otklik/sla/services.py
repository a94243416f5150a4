"""Writes on SLA deadlines: start, meet, pause, resume, cancel, and the breach scan.

Deadlines are rows, never timers: whatever process runs `scan_deadlines` (every second,
from the worker) finds due rows through a partial index and claims each one with a
conditional UPDATE, so a restart or a second scanner never reports a breach twice.
"""

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError
from otklik.common.links import absolute_reverse
from otklik.common.timezones import in_zone_of
from otklik.sla import conf, config
from otklik.sla.calendar import (
    CalendarSpec,
    add_business,
    business_between,
)
from otklik.sla.models import BusinessCalendar, Deadline, DeadlineKind, SlaPolicy
from otklik.sla.selectors import deadline_open_for

# Deadlines whose clock runs: the scan and the partial indexes use exactly these terms.
RUNNING = Q(
    met_at__isnull=True, cancelled_at__isnull=True, breached_at__isnull=True, paused_at__isnull=True
)
logger = logging.getLogger(__name__)
PAUSABLE_KINDS = (DeadlineKind.FIRST_RESPONSE, DeadlineKind.RESOLUTION)


# --- calendars and policies ---------------------------------------------------------------


def calendar_for(*, team=None, department=None) -> BusinessCalendar | None:
    """The department's calendar for handoffs, else the team's, else the default one."""
    return config.calendar_for(
        team_id=team.pk if team is not None else None,
        department_id=department.pk if department is not None else None,
    )


def calendar_spec(calendar: BusinessCalendar | None) -> CalendarSpec:
    """The pure description of a stored calendar (wall clock when there is none)."""
    return config.spec_for(calendar)


def _deadline_spec(deadline: Deadline) -> CalendarSpec:
    """The calendar the deadline was started on (wall clock if it was deleted since)."""
    return calendar_spec(deadline.calendar)


def _policy_candidates(case) -> list[SlaPolicy]:
    """Active policies that could apply to the case, for any kind."""
    return config.policy_candidates(
        topic_id=case.topic_id, priority=case.priority, channel=case.channel
    )


def _best_policy(candidates: list[SlaPolicy], kind: str) -> SlaPolicy | None:
    """Specificity: topic (4) > priority (2) > channel (1); ties: the oldest policy wins."""

    def score(policy: SlaPolicy) -> tuple[int, int]:
        specificity = (
            4 * (policy.topic_id is not None)
            + 2 * (policy.priority is not None)
            + (policy.channel != "")
        )
        return (specificity, -policy.pk)

    setting = [p for p in candidates if p.minutes_for(kind) is not None]
    return max(setting, key=score, default=None)


def policy_for(*, case, kind: str) -> SlaPolicy | None:
    """The most specific active policy matching the case that sets a target for `kind`.

    Specificity: topic (4) > priority (2) > channel (1); an empty field matches anything.
    """
    if kind not in DeadlineKind.values:
        raise ServiceError({"kind": _("Unknown deadline kind.")})
    return _best_policy(_policy_candidates(case), kind)


# --- one deadline -------------------------------------------------------------------------


def _sync_targets(deadline: Deadline, case) -> None:
    """Keep Case.due_at (queue "overdue" filter) and Handoff.due_at equal to the clocks."""
    from otklik.cases.models import Case

    if deadline.kind == DeadlineKind.RESOLUTION:
        due = None if deadline.paused_at or not deadline.is_open else deadline.due_at
        if deadline.is_open:
            Case.objects.filter(pk=deadline.case_id).update(due_at=due)
            case.due_at = due
    elif deadline.kind == DeadlineKind.HANDOFF_ANSWER and deadline.handoff_id and deadline.is_open:
        from otklik.handoffs.models import Handoff

        Handoff.objects.filter(pk=deadline.handoff_id).update(due_at=deadline.due_at)


def _plan(
    *,
    case,
    kind: str,
    handoff,
    start: datetime,
    minutes: int | None,
    candidates: list[SlaPolicy] | None,
    calendar: BusinessCalendar | None,
    spec: CalendarSpec,
) -> Deadline:
    """An unsaved deadline: target from `minutes`, else the best policy, else defaults."""
    policy = None
    if minutes is None:
        policy = _best_policy(candidates or [], kind)
        minutes = policy.minutes_for(kind) if policy else conf.default_minutes(kind)
    if minutes < 0:
        raise ServiceError({"minutes": _("A deadline cannot be negative.")})
    percent = conf.warn_before_percent()
    if policy is not None and policy.warn_before_percent is not None:
        percent = policy.warn_before_percent
    target = timedelta(minutes=minutes)
    warn_before = target * min(max(percent, 0), 100) / 100
    return Deadline(
        case=case,
        handoff=handoff,
        kind=kind,
        policy=policy,
        calendar=calendar,
        target_minutes=minutes,
        warn_before_seconds=int(warn_before.total_seconds()),
        started_at=start,
        due_at=add_business(spec, start, target),
        warn_at=add_business(spec, start, target - warn_before) if warn_before else None,
    )


@transaction.atomic
def deadline_start(
    *,
    case,
    kind: str,
    handoff=None,
    start: datetime | None = None,
    minutes: int | None = None,
) -> Deadline:
    """Start an SLA clock on a case; return the running one if it is already started.

    Without `minutes` the target comes from the best-matching policy or the defaults.
    The due time counts on the business calendar of the handoff's department or the
    case's team (the default calendar, or the wall clock, when they have none).
    """
    if kind not in DeadlineKind.values:
        raise ServiceError({"kind": _("Unknown deadline kind.")})
    if (kind == DeadlineKind.HANDOFF_ANSWER) != (handoff is not None):
        raise ServiceError({"handoff": _("Only a department answer deadline has a handoff.")})
    existing = deadline_open_for(case=case, kind=kind, handoff=handoff)
    if existing is not None:
        return existing
    calendar = calendar_for(
        team=case.team, department=handoff.department if handoff is not None else None
    )
    deadline = _plan(
        case=case,
        kind=kind,
        handoff=handoff,
        start=start or timezone.now(),
        minutes=minutes,
        candidates=None if minutes is not None else _policy_candidates(case),
        calendar=calendar,
        spec=calendar_spec(calendar),
    )
    try:
        with transaction.atomic():
            deadline.save(force_insert=True)
    except IntegrityError:  # a concurrent start won; theirs is the clock
        return deadline_open_for(case=case, kind=kind, handoff=handoff)
    _sync_targets(deadline, case)
    return deadline


@transaction.atomic
def deadline_meet(*, case, kind: str, handoff=None, at: datetime | None = None) -> Deadline | None:
    """Stop the running clock as met (on time or late: compare met_at with due_at)."""
    deadline = deadline_open_for(case=case, kind=kind, handoff=handoff)
    if deadline is None:
        return None
    at = at or timezone.now()
    if deadline.paused_at is not None:
        deadline = _resume_one(deadline, at)
    changed = Deadline.objects.filter(pk=deadline.pk, met_at__isnull=True).update(met_at=at)
    if changed != 1:
        return None
    deadline.met_at = at
    return deadline


@transaction.atomic
def deadline_cancel(*, case, kind: str, handoff=None, at: datetime | None = None) -> int:
    """Stop running clocks without judging them (a cancelled handoff, a closed case).

    `kind` "*" cancels every running clock of the case (or of the handoff).
    """
    qs = Deadline.objects.filter(case=case, met_at__isnull=True, cancelled_at__isnull=True)
    if kind != "*":
        qs = qs.filter(kind=kind)
    if handoff is not None:
        qs = qs.filter(handoff=handoff)
    return qs.update(cancelled_at=at or timezone.now())


@transaction.atomic
def deadlines_pause(*, case, at: datetime | None = None) -> int:
    """Waiting for the client: stop the first-response and resolution clocks."""
    at = at or timezone.now()
    paused = 0
    running = Deadline.objects.select_for_update(of=("self",)).filter(
        case=case,
        kind__in=PAUSABLE_KINDS,
        met_at__isnull=True,
        cancelled_at__isnull=True,
        paused_at__isnull=True,
    )
    for deadline in running.select_related("calendar"):
        left = business_between(_deadline_spec(deadline), at, deadline.due_at)
        deadline.paused_at = at
        deadline.remaining_seconds_at_pause = max(left.total_seconds(), 0.0)
        deadline.save(update_fields=["paused_at", "remaining_seconds_at_pause"])
        _sync_targets(deadline, case)
        paused += 1
    return paused


def _resume_one(deadline: Deadline, at: datetime) -> Deadline:
    spec = _deadline_spec(deadline)
    left = timedelta(seconds=deadline.remaining_seconds_at_pause or 0)
    deadline.due_at = add_business(spec, at, left)
    if deadline.warned_at is None and deadline.warn_before_seconds:
        before = timedelta(seconds=deadline.warn_before_seconds)
        deadline.warn_at = add_business(spec, at, max(left - before, timedelta(0)))
    deadline.paused_at = None
    deadline.remaining_seconds_at_pause = None
    deadline.save(update_fields=["due_at", "warn_at", "paused_at", "remaining_seconds_at_pause"])
    return deadline


@transaction.atomic
def deadlines_resume(*, case, at: datetime | None = None) -> int:
    """The client answered: restart paused clocks with the business time they had left."""
    at = at or timezone.now()
    resumed = 0
    paused = Deadline.objects.select_for_update(of=("self",)).filter(
        case=case, met_at__isnull=True, cancelled_at__isnull=True, paused_at__isnull=False
    )
    for deadline in paused.select_related("calendar"):
        _resume_one(deadline, at)
        _sync_targets(deadline, case)
        resumed += 1
    return resumed


# --- hooks called from cases.services -------------------------------------------------------


def plan_case_clocks(*, cases: list, at: datetime) -> list[Deadline]:
    """The clocks of cases about to be inserted: resolution, and first response unless the
    contact is live. Sets each case's `due_at` from its resolution clock.

    Planned before the insert, from one snapshot of the in-memory policies and calendars,
    so intake writes each case once (no UPDATE of its due time) and inserts all clocks in
    one statement.
    """
    current = config.snapshot()
    planned: list[Deadline] = []
    for case in cases:
        kinds = [DeadlineKind.RESOLUTION]
        if case.channel not in conf.live_channels():
            kinds.append(DeadlineKind.FIRST_RESPONSE)
        candidates = config.policy_candidates(
            topic_id=case.topic_id, priority=case.priority, channel=case.channel, current=current
        )
        calendar = config.calendar_for(team_id=case.team_id, current=current)
        spec = config.spec_for(calendar, current)
        clocks = [
            _plan(
                case=case,
                kind=kind,
                handoff=None,
                start=at,
                minutes=None,
                candidates=candidates,
                calendar=calendar,
                spec=spec,
            )
            for kind in kinds
        ]
        case.due_at = clocks[0].due_at
        planned += clocks
    return planned


def start_planned_clocks(planned: list[Deadline]) -> None:
    """Insert the clocks from `plan_case_clocks` once their case has been saved."""
    Deadline.objects.bulk_create(planned)


def on_message_added(*, case, message, at: datetime) -> None:
    """A public staff reply meets first response and a pending cabinet answer; a client's
    message in the personal cabinet starts the cabinet answer clock."""
    from otklik.cases.models import AuthorKind, MessageVisibility

    if message.visibility != MessageVisibility.PUBLIC:
        return
    if message.author_kind == AuthorKind.STAFF:
        deadline_meet(case=case, kind=DeadlineKind.FIRST_RESPONSE, at=at)
        deadline_meet(case=case, kind=DeadlineKind.PORTAL_ANSWER, at=at)
    elif message.author_kind == AuthorKind.CLIENT:
        channel = message.interaction.channel if message.interaction_id else case.channel
        if channel == "portal":
            deadline_start(case=case, kind=DeadlineKind.PORTAL_ANSWER, start=at)


def on_status_changed(*, case, old: str, new: str, at: datetime) -> None:
    """Pause while waiting for the client; meet on resolution; a reopened case gets a new
    resolution clock."""
    from otklik.cases.lifecycle import REOPEN_FROM, is_open
    from otklik.cases.models import CaseStatus

    if new == CaseStatus.WAITING_CLIENT:
        deadlines_pause(case=case, at=at)
    elif old == CaseStatus.WAITING_CLIENT:
        deadlines_resume(case=case, at=at)
    if new == CaseStatus.RESOLVED:
        for kind in (
            DeadlineKind.FIRST_RESPONSE,
            DeadlineKind.PORTAL_ANSWER,
            DeadlineKind.RESOLUTION,
        ):
            deadline_meet(case=case, kind=kind, at=at)
    elif new == CaseStatus.CLOSED:
        for kind in (
            DeadlineKind.FIRST_RESPONSE,
            DeadlineKind.PORTAL_ANSWER,
            DeadlineKind.RESOLUTION,
        ):
            deadline_cancel(case=case, kind=kind, at=at)
    elif old in REOPEN_FROM and is_open(new):
        deadline_start(case=case, kind=DeadlineKind.RESOLUTION, start=at)


# --- the scan -----------------------------------------------------------------------------


@dataclass
class ScanResult:
    """What one scan did; `more` means a batch was full and the caller may scan again now."""

    breached: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    more: bool = False


def _row_delay() -> float:
    """Test hook: seconds to sleep after claiming a row, so a test can kill the scanner
    between the claim and the commit. Unset in production."""
    return float(os.environ.get("OTKLIK_SLA_SCAN_ROW_DELAY", "0") or 0)


def escalation_recipients(deadline: Deadline, *, cache: dict | None = None) -> list:
    """Who hears about a breach: the team's senior operators, supervisors (of the team or
    of all teams), the case owner and, for a handoff, its assignee. Escalation target first.

    `cache` (team id → seniors and supervisors) saves the queries within one scan.
    """
    from otklik.accounts.models import Role, User

    case = deadline.case
    cache = {} if cache is None else cache
    if case.team_id not in cache:
        seniors = (
            User.objects.filter(is_active=True, role=Role.SENIOR_OPERATOR, team_id=case.team_id)
            if case.team_id
            else User.objects.none()
        )
        supervisors = User.objects.filter(is_active=True, role=Role.SUPERVISOR).filter(
            Q(team__isnull=True) | Q(team_id=case.team_id)
        )
        cache[case.team_id] = [*seniors.order_by("pk"), *supervisors.order_by("pk")]
    people = list(cache[case.team_id])
    if case.owner_id and case.owner.is_active:
        people.append(case.owner)
    if deadline.handoff_id and deadline.handoff.assignee_id:
        people.append(deadline.handoff.assignee)
    unique = {}
    for person in people:
        unique.setdefault(person.pk, person)
    return list(unique.values())


def _what(deadline: Deadline) -> dict:
    return {
        "case": deadline.case.reference,
        "kind": deadline.get_kind_display(),
        "due": timezone.localtime(deadline.due_at).strftime("%d.%m.%Y %H:%M"),
    }


def _breach_one(deadline_id: int, now: datetime, cache: dict | None = None) -> bool:
    from otklik.cases.models import CaseEvent, EventKind
    from otklik.live.services import publish
    from otklik.notifications.models import NotificationChannel
    from otklik.notifications.services import notify

    with transaction.atomic():
        claimed = Deadline.objects.filter(RUNNING, pk=deadline_id).update(breached_at=now)
        if claimed != 1:
            return False  # met, paused or breached by someone else meanwhile
        delay = _row_delay()
        if delay:
            time.sleep(delay)
        deadline = Deadline.objects.select_related(
            "case", "case__owner", "handoff", "handoff__assignee"
        ).get(pk=deadline_id)
        case = deadline.case
        people = escalation_recipients(deadline, cache=cache)
        target = next((p for p in people if p.pk != case.owner_id), None)
        if target is not None:
            Deadline.objects.filter(pk=deadline_id).update(escalated_to=target)
        CaseEvent.objects.create(
            case=case,
            actor=None,
            kind=EventKind.SLA_BREACH,
            field=deadline.kind,
            old_value=deadline.due_at.isoformat(),
            new_value=target.display_name if target else "",
            created_at=now,
        )
        what = _what(deadline)
        text = _("Case %(case)s: deadline «%(kind)s» missed (due %(due)s).") % what
        publish(
            user_ids=[p.pk for p in people],
            kind="sla_breach",
            text=text,
            case=case,
            payload={"deadline_id": deadline.pk, "deadline_kind": deadline.kind},
        )
        # Two deadlines of one case can be missed together (first response and the answer
        # in the personal cabinet): the subject names which one, the body links to the case.
        subject = _("Deadline «%(kind)s» missed on case %(case)s") % what
        link = absolute_reverse("workspace:case_detail", args=[case.pk])
        for person in people:
            if person.email:
                # The due time on the recipient's own clock (defect 6).
                with in_zone_of(person):
                    mine = _("Case %(case)s: deadline «%(kind)s» missed (due %(due)s).")
                    body = "\n\n".join([mine % _what(deadline), _("Case: %(url)s") % {"url": link}])
                notify(
                    key=f"sla-breach-{deadline.pk}-{person.pk}",
                    channel=NotificationChannel.EMAIL,
                    address=person.email,
                    subject=subject,
                    body=body,
                    user=person,
                    case=case,
                )
    return True


def _warn_one(deadline_id: int, now: datetime, cache: dict | None = None) -> bool:
    from otklik.cases.models import CaseEvent, EventKind
    from otklik.live.services import publish

    with transaction.atomic():
        claimed = Deadline.objects.filter(
            RUNNING, pk=deadline_id, warned_at__isnull=True, due_at__gt=now
        ).update(warned_at=now)
        if claimed != 1:
            return False
        deadline = Deadline.objects.select_related("case", "handoff").get(pk=deadline_id)
        case = deadline.case
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.SLA_WARNING,
            field=deadline.kind,
            new_value=deadline.due_at.isoformat(),
            created_at=now,
        )
        recipients = [case.owner_id]
        if deadline.handoff_id:
            recipients.append(deadline.handoff.assignee_id)
        publish(
            user_ids=[r for r in recipients if r],
            kind="sla_warning",
            text=_("Case %(case)s: deadline «%(kind)s» is close (due %(due)s).") % _what(deadline),
            case=case,
            payload={"deadline_id": deadline.pk, "deadline_kind": deadline.kind},
        )
    return True


def _each_claimed(ids: list[int], report, now: datetime, chunk: int) -> list[int]:
    """Report rows in transactions of `chunk` rows, each row in its own savepoint.

    Claim and report commit together: a crash rolls both back, so the row is simply due
    again for the next scanner. A row whose report fails is logged and left due.
    """
    done: list[int] = []
    cache: dict = {}
    for offset in range(0, len(ids), chunk):
        with transaction.atomic():
            for deadline_id in ids[offset : offset + chunk]:
                try:
                    if report(deadline_id, now, cache):
                        done.append(deadline_id)
                except Exception:
                    logger.exception("SLA deadline %s could not be reported", deadline_id)
    return done


def scan_deadlines(*, now: datetime | None = None, batch: int = 500, chunk: int = 50) -> ScanResult:
    """Breach due deadlines and warn those near their due time, each at most once.

    Reads only rows in the partial indexes (running clocks already due), in due order;
    every row is claimed with a conditional UPDATE and reported in the same transaction,
    so a crash loses nothing and repeats nothing, and two scanners never both report.
    """
    now = now or timezone.now()
    result = ScanResult()
    due_ids = list(
        Deadline.objects.filter(RUNNING, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:batch]
    )
    result.breached = _each_claimed(due_ids, _breach_one, now, chunk)
    warn_ids = list(
        Deadline.objects.filter(
            RUNNING,
            warned_at__isnull=True,
            warn_at__isnull=False,
            warn_at__lte=now,
            due_at__gt=now,
        )
        .order_by("warn_at")
        .values_list("pk", flat=True)[:batch]
    )
    result.warned = _each_claimed(warn_ids, _warn_one, now, chunk)
    result.more = len(due_ids) == batch or len(warn_ids) == batch
    return result
