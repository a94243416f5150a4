"""The workflow runner of a signed order, and staff retrying, resolving or unfreezing its steps.

The runner (`workflow_advance`) claims the first unfinished step with one
conditional UPDATE that also sets a lease; only the caller whose UPDATE changed the row
runs the step, and it is marked done only if the claim is still its own. A runner that
dies mid-step leaves the step `running`; when the lease ends the periodic scan
(`workflow_scan`) claims it again and the idempotent executor repeats nothing.
"""

import os
import random
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otklik.accounts.models import Department, Role, User
from otklik.audit.services import audit_record
from otklik.clients.models import (
    Product,
    ProductKind,
    ProductStatus,
)
from otklik.common.errors import ConflictError, ServiceError
from otklik.orders import steps
from otklik.orders.models import (
    Order,
    OrderEventKind,
    OrderStatus,
    OrderStep,
    StepStatus,
)
from otklik.orders.services.common import (
    PAUSE_ENV,
    _case_event,
    _event,
    _tell_staff,
    log,
)
from otklik.orders.services.drafting import (
    _require_editor,
)

# --- the workflow -----------------------------------------------------------------------------

DUE_STATUSES = (StepStatus.PENDING, StepStatus.FAILED, StepStatus.WAITING, StepStatus.RUNNING)
HANDED_OFF = "handed_off"


def kick(order_id: int) -> None:
    """Ask the worker to advance the workflow now (the periodic scan does it anyway)."""
    from otklik.orders.tasks import advance_order

    try:
        advance_order.enqueue(order_id)
    except Exception:
        log.warning("could not enqueue order %s; the scan will advance it", order_id, exc_info=True)


def _lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "ORDERS_STEP_LEASE_SECONDS", 300))


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Wait before the next attempt: base × 4^(attempts-1), capped, plus ≤ 10 % jitter."""
    base = getattr(settings, "ORDERS_STEP_BACKOFF_SECONDS", 30) * 4 ** max(attempts - 1, 0)
    seconds = min(base, 6 * 3600)
    return timedelta(seconds=seconds + (rng or random).uniform(0, 0.1) * seconds)


def _max_attempts() -> int:
    return getattr(settings, "ORDERS_STEP_MAX_ATTEMPTS", 4)


def _claim(step: OrderStep, now: datetime) -> bool:
    lease_end = now + _lease()
    changed = OrderStep.objects.filter(
        pk=step.pk, status__in=DUE_STATUSES, next_attempt_at__lte=now
    ).update(
        status=StepStatus.RUNNING,
        locked_until=lease_end,
        next_attempt_at=lease_end,
        attempts=F("attempts") + 1,
    )
    return changed == 1


def _pause_for_tests(step: OrderStep) -> None:
    raw = os.environ.get(PAUSE_ENV, "")
    code, _sep, seconds = raw.partition(":")
    if code and code == step.code:
        log.warning("test hook: pausing %s s inside step %s", seconds, step)
        time.sleep(float(seconds or 30))


def workflow_advance(order_id: int, *, now: datetime | None = None, max_steps: int = 20) -> list:
    """Run the order's due steps in order until one must wait; return [(seq, outcome)]."""
    ran = []
    for _i in range(max_steps):
        at = now or timezone.now()
        step = (
            OrderStep.objects.filter(order_id=order_id)
            .exclude(status=StepStatus.DONE)
            .order_by("seq")
            .first()
        )
        if step is None:
            _order_complete(order_id, at)
            break
        previous = step.status
        if previous == StepStatus.HANDED_OFF or not _claim(step, at):
            break
        step.refresh_from_db()
        order = Order.objects.select_related("case", "client", "product").get(pk=order_id)
        if order.status == OrderStatus.SIGNED:
            Order.objects.filter(pk=order.pk, status=OrderStatus.SIGNED).update(
                status=OrderStatus.IN_PROGRESS, updated_at=at
            )
        if step.executor == "handoff":
            outcome = steps.Outcome(HANDED_OFF, error=_("This step is done by a person."))
        else:
            outcome = steps.run(step, order, at)
        if outcome.status == steps.DONE:
            _pause_for_tests(step)
        status = _finish(step, order, outcome, previous, at)
        ran.append((step.seq, status))
        if status != steps.DONE:
            break
    return ran


def _finish(step, order, outcome, previous: str, now: datetime) -> str:
    ours = OrderStep.objects.filter(pk=step.pk, status=StepStatus.RUNNING, attempts=step.attempts)
    if outcome.status == steps.DONE:
        try:
            with transaction.atomic():
                if (
                    ours.update(
                        status=StepStatus.DONE,
                        result=outcome.result,
                        finished_at=now,
                        locked_until=None,
                        next_attempt_at=None,
                        last_error="",
                    )
                    != 1
                ):
                    return "lost"  # our lease ended and another runner took the step
                if outcome.apply is not None:
                    outcome.apply()
                _event(order, OrderEventKind.STEP_DONE, now, step=step, detail=step.name)
                _tell_staff(
                    order,
                    _("Order %(ref)s: «%(step)s» done")
                    % {"ref": order.reference, "step": step.name},
                    "order.step",
                )
        except Exception as exc:
            log.exception("finishing step %s failed", step)
            outcome = steps.Outcome(steps.FAILED, error=f"{type(exc).__name__}: {exc}"[:500])
        else:
            return steps.DONE
    if outcome.status == steps.WAITING:
        recheck = getattr(settings, "ORDERS_WAIT_RECHECK_SECONDS", 60)
        ours.update(
            status=StepStatus.WAITING,
            attempts=F("attempts") - 1,  # waiting is not a failed attempt
            result=outcome.result,
            locked_until=None,
            next_attempt_at=now + timedelta(seconds=recheck),
        )
        if previous != StepStatus.WAITING:
            _event(order, OrderEventKind.STEP_WAITING, now, step=step, detail=step.name)
        return steps.WAITING
    if outcome.status == HANDED_OFF or step.attempts >= _max_attempts():
        with transaction.atomic():
            if (
                ours.update(
                    status=StepStatus.HANDED_OFF,
                    last_error=outcome.error[:500],
                    locked_until=None,
                    next_attempt_at=None,
                )
                == 1
            ):
                _hand_off(step, order, outcome.error, now)
        return HANDED_OFF
    ours.update(
        status=StepStatus.FAILED,
        last_error=outcome.error[:500],
        locked_until=None,
        next_attempt_at=now + backoff_delay(step.attempts),
    )
    _event(
        order,
        OrderEventKind.STEP_FAILED,
        now,
        step=step,
        detail=f"{step.name}: {outcome.error}",
    )
    return steps.FAILED


def _hand_off(step: OrderStep, order: Order, error: str, now: datetime) -> None:
    """Give the step to the back office as a handoff on the case; the owner keeps control."""
    from otklik.handoffs.services import handoff_send

    code = getattr(settings, "ORDERS_HANDOFF_DEPARTMENT", "back_office")
    department, _created = Department.objects.get_or_create(
        code=code, defaults={"name": "Бэк-офис"}
    )
    with translation.override(settings.LANGUAGE_CODE):
        question = _(
            "Order %(ref)s «%(title)s», step %(seq)d «%(step)s» was not done automatically "
            "(attempts: %(attempts)d; last error: %(error)s). Please do it by hand and mark "
            "the step done on the case page."
        ) % {
            "ref": order.reference,
            "title": order.title,
            "seq": step.seq,
            "step": step.name,
            "attempts": step.attempts,
            "error": error or "—",
        }
    actor = order.drafted_by or order.case.owner
    detail = department.name
    try:
        if actor is None:
            raise ServiceError({"case": "no one to send the handoff"})
        handoff = handoff_send(
            actor=actor, case=order.case, department=department, question=question, now=now
        )
        OrderStep.objects.filter(pk=step.pk).update(
            result={**step.result, "handoff_id": handoff.pk}
        )
    except ServiceError as exc:
        detail = f"{department.name}: {' '.join(exc.messages)}"
        log.warning("order %s step %s: handoff refused: %s", order.pk, step.seq, detail)
    _event(order, OrderEventKind.STEP_HANDED_OFF, now, step=step, detail=detail)
    _case_event(order.case, None, "order_step_handed_off", f"{order.reference}: {step.name}", now)
    _tell_staff(
        order,
        _("Order %(ref)s: «%(step)s» needs a person") % {"ref": order.reference, "step": step.name},
        "order.step",
    )


def _order_complete(order_id: int, now: datetime) -> None:
    changed = Order.objects.filter(
        pk=order_id, status__in=[OrderStatus.SIGNED, OrderStatus.IN_PROGRESS]
    ).update(status=OrderStatus.COMPLETED, finished_at=now, updated_at=now)
    if changed != 1:
        return
    order = Order.objects.select_related("case", "client").get(pk=order_id)
    _event(order, OrderEventKind.COMPLETED, now)
    _case_event(order.case, None, "order_completed", order.reference, now)
    _tell_staff(
        order,
        _("Order %(ref)s is completed") % {"ref": order.reference},
        "order.completed",
    )


def workflow_scan(now: datetime | None = None, *, limit: int = 200) -> int:
    """The periodic scan: advance orders with a due step (retry, lease ended, recheck)."""
    now = now or timezone.now()
    order_ids = set(
        OrderStep.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now).values_list(
            "order_id", flat=True
        )[:limit]
    )
    for order_id in sorted(order_ids):
        try:
            workflow_advance(order_id, now=now)
        except Exception:
            log.exception("advancing order %s failed", order_id)
    return len(order_ids)


# --- people acting on the workflow ------------------------------------------------------------


def _order_step_for_staff(actor: User, step: OrderStep) -> Order:
    order = step.order
    _require_editor(actor, order.case)
    return order


@transaction.atomic
def order_step_retry(*, actor: User, step: OrderStep, now: datetime | None = None) -> OrderStep:
    """Try a handed-off or failed step again now, with a fresh set of attempts."""
    order = _order_step_for_staff(actor, step)
    now = now or timezone.now()
    changed = OrderStep.objects.filter(
        pk=step.pk, status__in=[StepStatus.HANDED_OFF, StepStatus.FAILED]
    ).update(status=StepStatus.PENDING, attempts=0, next_attempt_at=now, locked_until=None)
    if changed != 1:
        raise ConflictError({"step": _("Only a failed or handed-off step can be retried.")})
    _event(order, OrderEventKind.STEP_RETRIED, now, actor=actor, step=step, detail=step.name)
    audit_record(
        actor=actor,
        action="order.step_retry",
        via="workspace",
        client_id=order.client_id,
        obj=order,
        detail=f"step {step.seq}",
    )
    transaction.on_commit(lambda: kick(order.pk))
    step.refresh_from_db()
    return step


@transaction.atomic
def order_step_resolve(
    *, actor: User, step: OrderStep, note: str = "", now: datetime | None = None
) -> OrderStep:
    """A person did a handed-off step by hand: mark it done and go on."""
    order = _order_step_for_staff(actor, step)
    now = now or timezone.now()
    note = (note or "").strip()[:300]
    changed = OrderStep.objects.filter(pk=step.pk, status=StepStatus.HANDED_OFF).update(
        status=StepStatus.DONE,
        finished_at=now,
        result={**step.result, "done_by": actor.pk, "note": note},
    )
    if changed != 1:
        raise ConflictError({"step": _("Only a handed-off step can be marked done.")})
    _event(order, OrderEventKind.STEP_RESOLVED, now, actor=actor, step=step, detail=note)
    audit_record(
        actor=actor,
        action="order.step_resolve",
        via="workspace",
        client_id=order.client_id,
        obj=order,
        detail=f"step {step.seq}",
    )
    transaction.on_commit(lambda: kick(order.pk))
    step.refresh_from_db()
    return step


@transaction.atomic
def fund_units_unfreeze(*, actor: User | None, product: Product, now: datetime | None = None):
    """The fund units held on `product` (an ИИС) are unblocked; waiting orders go on.

    In production the back office reports this; the demo lets a senior operator do it.
    """
    now = now or timezone.now()
    units = list(product.children.select_for_update().filter(kind=ProductKind.FUND_UNITS))
    for unit in units:
        if (unit.details or {}).get("frozen"):
            unit.details = {**unit.details, "frozen": False}
            unit.status = ProductStatus.ACTIVE
            unit.save(update_fields=["details", "status"])
            unit.restrictions.filter(kind="sanctions_freeze", lifted_at__isnull=True).update(
                lifted_at=now, lifted_by=actor
            )
    waiting = (
        Order.objects.filter(product=product, steps__status=StepStatus.WAITING)
        .select_related("case")
        .distinct()
    )
    for order in waiting:
        OrderStep.objects.filter(order=order, status=StepStatus.WAITING).update(next_attempt_at=now)
        _event(order, OrderEventKind.UNFROZEN, now, actor=actor, detail=product.name)
        order_id = order.pk
        transaction.on_commit(lambda pk=order_id: kick(pk))
    return units


UNFREEZE_ROLES = (Role.SENIOR_OPERATOR, Role.SUPERVISOR, Role.ADMIN)


def order_assets_unfreeze(*, actor: User, order: Order, now: datetime | None = None) -> None:
    """Demo of the back office's report: the order's fund units are unblocked."""
    if actor.role not in UNFREEZE_ROLES or order.product is None:
        raise ServiceError(
            {"order": _("Only a senior operator or a supervisor can mark assets unblocked.")}
        )
    fund_units_unfreeze(actor=actor, product=order.product, now=now)
    audit_record(
        actor=actor, action="order.unfreeze", via="workspace", client_id=order.client_id, obj=order
    )
