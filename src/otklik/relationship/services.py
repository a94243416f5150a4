"""Writes of the manager's desk: assignment, profile, call outcomes, onboarding, tasks,
absences and offers. Each is one atomic function that records its history."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, User
from otklik.audit.services import audit_record
from otklik.clients.models import Client
from otklik.common.errors import NotAllowed, ServiceError
from otklik.relationship.models import (
    Absence,
    AssignmentChange,
    CallOutcome,
    ManagerTask,
    OfferOutcome,
    OfferRule,
    OfferStatus,
    OnboardingStep,
    OnboardingTemplateStep,
    Outcome,
    PackageLevel,
    Relationship,
)
from otklik.relationship.selectors import can_manage_books

VIA = "workspace"

#: How long each outcome keeps the client off the call list.
SNOOZE_DAYS = {Outcome.NO_ANSWER: 1, Outcome.CALL_BACK: 2}


def clients_assign(
    *,
    actor: User,
    clients: list[Client],
    to_manager: User | None,
    reason: str = "",
    onboard_new: bool = True,
    now: datetime | None = None,
) -> int:
    """Assign or move clients to `to_manager` (one or many), recording each change.

    A client who had no manager before starts the onboarding checklist.
    """
    if not can_manage_books(actor):
        raise NotAllowed(_("Only supervisors and administrators assign clients."))
    if to_manager is not None and (
        to_manager.role != Role.PERSONAL_MANAGER or not to_manager.is_active
    ):
        raise ServiceError({"to_manager": _("Choose an active personal manager.")})
    now = now or timezone.now()
    moved = [c for c in clients if c.personal_manager_id != (to_manager.pk if to_manager else None)]
    if not moved:
        return 0
    with transaction.atomic():
        AssignmentChange.objects.bulk_create(
            [
                AssignmentChange(
                    client=c,
                    from_manager_id=c.personal_manager_id,
                    to_manager=to_manager,
                    by=actor,
                    reason=reason[:300],
                    at=now,
                )
                for c in moved
            ]
        )
        fresh = [c for c in moved if c.personal_manager_id is None]
        Client.objects.filter(pk__in=[c.pk for c in moved]).update(personal_manager=to_manager)
        for c in moved:
            c.personal_manager = to_manager
        Relationship.objects.bulk_create(
            [Relationship(client=c) for c in moved], ignore_conflicts=True
        )
        if onboard_new and to_manager is not None and fresh:
            onboarding_start(clients=fresh, today=timezone.localdate(now))
    return len(moved)


def onboarding_start(*, clients: list[Client], today: date | None = None) -> None:
    """Give each client the checklist's active steps, due `due_days` after today.

    The steps are copied (code, title, due date), so a later change of the checklist
    (`OnboardingTemplateStep`, edited by an administrator) leaves started checklists as
    they are; a client who has a step already keeps it. Returns the steps created.
    """
    today = today or timezone.localdate()
    template = list(OnboardingTemplateStep.objects.filter(active=True).order_by("position", "id"))
    OnboardingStep.objects.bulk_create(
        [
            OnboardingStep(
                client=c,
                code=step.code,
                title=step.title,
                due_on=today + timedelta(days=step.due_days),
            )
            for c in clients
            for step in template
        ],
        ignore_conflicts=True,
    )


def onboarding_step_done(*, actor: User, step: OnboardingStep, done: bool = True) -> None:
    step.done_at = timezone.now() if done else None
    step.done_by = actor if done else None
    step.save(update_fields=["done_at", "done_by"])


PROFILE_FIELDS = (
    "informal",
    "preferred_channels",
    "preferred_hours",
    "interests",
    "inform_about",
    "notes",
    "next_contact_on",
)


@transaction.atomic
def profile_update(
    *,
    actor: User,
    client: Client,
    address_as: str,
    package_level: PackageLevel | None = None,
    request=None,
    **fields,
) -> Relationship:
    """Record how the client wants to be served; the change is in the access log."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ServiceError({"fields": _("Unknown fields: %(f)s") % {"f": ", ".join(unknown)}})
    rel, _created = Relationship.objects.get_or_create(client=client)
    for name, value in fields.items():
        setattr(rel, name, value.strip() if isinstance(value, str) else value)
    if package_level is not None:
        rel.package_level = package_level
    rel.save()
    if client.address_as != address_as.strip():
        client.address_as = address_as.strip()[:200]
        client.save(update_fields=["address_as"])
    audit_record(
        actor=actor,
        action="client.profile.update",
        via=VIA,
        client_id=client.pk,
        obj=client,
        request=request,
    )
    return rel


@transaction.atomic
def call_outcome_log(
    *,
    actor: User,
    client: Client,
    outcome: str,
    reason_keys: list[str],
    now: datetime | None = None,
) -> CallOutcome:
    """Log a proactive call: «поговорили» dismisses its reasons, the others snooze."""
    if outcome not in Outcome.values:
        raise ServiceError({"outcome": _("Unknown outcome.")})
    now = now or timezone.now()
    days = SNOOZE_DAYS.get(outcome)
    row = CallOutcome.objects.create(
        client=client,
        manager=actor,
        outcome=outcome,
        reason_keys=[str(k)[:80] for k in reason_keys][:20],
        snoozed_until=timezone.localdate(now) + timedelta(days=days) if days else None,
        at=now,
    )
    Relationship.objects.get_or_create(client=client)
    Relationship.objects.filter(client=client).update(last_contact_at=now)
    if outcome == Outcome.TALKED:
        # A callback task the call dealt with is done.
        task_ids = [int(k.split(":")[1]) for k in reason_keys if k.startswith("task:")]
        ManagerTask.objects.filter(pk__in=task_ids, client=client).update(done_at=now)
    if outcome == Outcome.CALL_BACK:
        ManagerTask.objects.create(
            manager=client.personal_manager or actor,
            client=client,
            title=_("Call back: %(n)s") % {"n": client.greeting_name},
            due_at=now + timedelta(days=days or 1),
        )
    return row


def task_create(
    *, actor: User, client: Client, title: str, due_at: datetime, manager: User | None = None
) -> ManagerTask:
    title = (title or "").strip()
    if not title:
        raise ServiceError({"title": _("Say what to do.")})
    return ManagerTask.objects.create(
        manager=manager or client.personal_manager or actor,
        client=client,
        title=title[:200],
        due_at=due_at,
    )


def task_done(*, task: ManagerTask) -> None:
    ManagerTask.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=timezone.now())


def task_reminders_scan(now: datetime | None = None) -> int:
    """Tell the manager (or his deputy while he is away) of each task now due, once.

    Claims each task with a conditional UPDATE, so two workers never notify twice.
    """
    from otklik.live.services import publish
    from otklik.relationship.selectors import acting_manager

    now = now or timezone.now()
    sent = 0
    due = ManagerTask.objects.filter(
        notified_at__isnull=True, done_at__isnull=True, due_at__lte=now
    ).select_related("manager", "client")[:200]
    for task in due:
        with transaction.atomic():
            claimed = ManagerTask.objects.filter(pk=task.pk, notified_at__isnull=True).update(
                notified_at=now
            )
            if not claimed:
                continue
            to = acting_manager(manager=task.manager, day=timezone.localdate(now))
            publish(
                user_ids=[to.pk if to else task.manager_id],
                kind="manager.task",
                text=_("Reminder: %(t)s") % {"t": task.title},
                payload={"client_id": task.client_id, "task_id": task.pk},
            )
            sent += 1
    return sent


def absence_set(
    *, actor: User, manager: User, deputy: User, starts_on: date, ends_on: date
) -> Absence:
    """Name a deputy for a manager's absence (supervisors, or the manager himself)."""
    if not (can_manage_books(actor) or actor == manager):
        raise NotAllowed(_("Only the manager or a supervisor names a deputy."))
    if deputy == manager or deputy.role != Role.PERSONAL_MANAGER:
        raise ServiceError({"deputy": _("The deputy must be another personal manager.")})
    if ends_on < starts_on:
        raise ServiceError({"ends_on": _("The absence ends before it starts.")})
    return Absence.objects.create(
        manager=manager, deputy=deputy, starts_on=starts_on, ends_on=ends_on
    )


def offer_record(
    *, actor: User, client: Client, rule: OfferRule, status: str, now: datetime | None = None
) -> OfferOutcome:
    if status not in OfferStatus.values:
        raise ServiceError({"status": _("Unknown offer status.")})
    return OfferOutcome.objects.create(
        client=client, rule=rule, manager=actor, status=status, at=now or timezone.now()
    )
