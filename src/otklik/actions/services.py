"""Writes of the actions app: request an action, record its result, mark a client verified.

`action_request` is the only way an action runs — the workspace form and the API both
call it — so the policy is enforced on the server whatever the page showed. A refusal is
audited and recorded on the case *outside* the failed transaction, so it survives.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import User
from otklik.actions.executors import StepResult, webhook_queue
from otklik.actions.inputs import input_spec, validate_input
from otklik.actions.models import (
    ActionRun,
    ActionType,
    BackofficeCall,
    ClientFlag,
    ClientFlagKind,
    ExecutorKind,
    RunStatus,
)
from otklik.actions.policy import Decision, evaluate
from otklik.actions.selectors import (
    applies_to,
    can_set_client_flag,
    current_interaction,
    product_facts,
)
from otklik.audit.services import audit_record
from otklik.cases.labels import run_marker
from otklik.cases.models import Case, CaseEvent, EventKind, Interaction
from otklik.cases.selectors import can_edit_case
from otklik.clients.models import (
    ChannelKind,
    Client,
    Product,
    ProductKind,
    ProductStatus,
    Restriction,
    Tariff,
)
from otklik.clients.product_details import validate_details
from otklik.clients.selectors import tariff_offered_get
from otklik.clients.services import restriction_lift
from otklik.common.errors import ServiceError
from otklik.live.services import publish

logger = logging.getLogger(__name__)

ON_RESULT = "otklik.actions.services.action_run_finished"


class ActionDenied(ServiceError):
    """The policy refused the action; `decision` says why and what to do instead."""

    def __init__(self, decision: Decision):
        message = decision.reason
        if decision.alternative:
            message = f"{message} {decision.alternative}"
        super().__init__({"action": [message]})
        self.decision = decision


def _case_event(
    case: Case | None, actor, field: str, value: str, now: datetime, run: ActionRun | None = None
) -> None:
    """A history row; a run's rows share `old_value` = run_marker(run) so the case history
    shows one entry per action (its latest state), not one per step."""
    if case is None:
        return
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=EventKind.ACTION,
        field=field[:40],
        old_value=run_marker(run) if run is not None else "",
        new_value=value[:300],
        created_at=now,
    )


def _run_key(actor: User, key: str) -> str:
    """Keys are per user (like the API's), so two operators' "1" never collide."""
    return f"u{actor.pk}:{key}"[:200]


def _restriction_for(action: ActionType, product: Product, data: dict) -> Restriction | None:
    if not action.restriction_kind:
        return None
    restriction = Restriction.objects.filter(
        pk=data.get("restriction_id"), product=product, kind=action.restriction_kind
    ).first()
    if restriction is None:
        raise ServiceError({"restriction_id": _("This product has no such restriction.")})
    if not restriction.is_active:
        raise ServiceError({"restriction_id": _("This restriction is already lifted.")})
    return restriction


def _check_target(data: dict, product: Product) -> None:
    if "service_product_id" in data and data["service_product_id"] != product.pk:
        raise ServiceError({"service_product_id": _("Choose the service on this product.")})


def _record_denial(
    *,
    actor: User,
    action: ActionType,
    case: Case,
    product: Product,
    channel: str,
    decision: Decision,
    via: str,
    request,
    now: datetime,
) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="action.denied",
            via=via,
            client_id=product.client_id,
            obj=product,
            request=request,
            detail=f"{action.code} on {channel}: rule #{decision.rule_id or '-'} {decision.reason}",
        )
        _case_event(case, actor, action.code, _("refused: %(r)s") % {"r": decision.reason}, now)


def action_request(
    *,
    actor: User,
    case: Case,
    product: Product,
    action_code: str,
    input: dict,
    channel: str,
    idempotency_key: str,
    interaction: Interaction | None = None,
    via: str = "workspace",
    request=None,
    now: datetime | None = None,
) -> ActionRun:
    """Validate, check the policy on the server, record the run and hand it to its executor.

    The same `idempotency_key` from the same actor returns the first run (nothing is done
    twice). Raises ServiceError for bad input and ActionDenied (audited, recorded on the
    case) when the policy refuses.
    """
    now = now or timezone.now()
    key = _run_key(actor, (idempotency_key or "").strip())
    if not idempotency_key or not idempotency_key.strip():
        raise ServiceError({"idempotency_key": _("A request needs an idempotency key.")})
    existing = ActionRun.objects.filter(idempotency_key=key).select_related("action").first()
    if existing is not None:
        if existing.action.code != action_code or existing.product_id != product.pk:
            raise ServiceError(
                {"idempotency_key": _("This key was already used for another action.")}
            )
        existing.replayed = True
        return existing
    action = ActionType.objects.filter(code=action_code, enabled=True).first()
    if action is None:
        raise ServiceError({"action_code": _("There is no such action.")})
    if channel not in ChannelKind.values:
        raise ServiceError({"channel": _("Unknown channel «%(c)s».") % {"c": channel}})
    live = current_interaction(case=case)
    if interaction is None:
        interaction = live
    if live is not None and live.channel != channel:
        raise ServiceError(
            {
                "channel": _("The live contact on this case is on «%(c)s».")
                % {"c": live.get_channel_display()}
            }
        )
    if case.client_id != product.client_id:
        raise ServiceError({"case_id": _("This case belongs to another client.")})
    if not can_edit_case(user=actor, case=case):
        raise ServiceError({"case_id": _("Department specialists act through handoffs.")})
    if not case.is_open:
        raise ServiceError({"case_id": _("The case is finished; reopen it to act.")})
    if not applies_to(action, product):
        raise ServiceError({"product_id": _("This action does not apply to this product.")})
    data = validate_input(action.input_kind, input, limit=action.limit)
    if action.input_kind == "change_tariff":
        _check_tariff(data, product)
    restriction = _restriction_for(action, product, data)
    _check_target(data, product)
    spec = input_spec(action.input_kind)
    client = product.client
    facts = product_facts(
        user=actor,
        client=client,
        product=product,
        restriction=restriction,
        amount=Decimal(str(data[spec.amount_field])) if spec.amount_field else None,
        now=now,
    )
    rules = list(action.rules.order_by("priority", "id"))
    decision = evaluate(action, role=actor.role, channel=channel, facts=facts, rules=rules)
    if not decision.definite:
        _record_denial(
            actor=actor,
            action=action,
            case=case,
            product=product,
            channel=channel,
            decision=decision,
            via=via,
            request=request,
            now=now,
        )
        raise ActionDenied(decision)
    return _start(
        actor=actor,
        action=action,
        case=case,
        product=product,
        restriction=restriction,
        interaction=interaction,
        channel=channel,
        data=data,
        decision=decision,
        key=key,
        via=via,
        request=request,
        now=now,
    )


@transaction.atomic
def _start(
    *,
    actor,
    action,
    case,
    product,
    restriction,
    interaction,
    channel,
    data,
    decision,
    key,
    via,
    request,
    now,
) -> ActionRun:
    try:
        with transaction.atomic():
            run = ActionRun.objects.create(
                action=action,
                client_id=product.client_id,
                product=product,
                restriction=restriction,
                case=case,
                interaction=interaction,
                channel=channel,
                actor=actor,
                input=data,
                decision_rule=decision.rule,
                decision_reason=(
                    decision.reason or _("Allowed by rule #%(id)s") % {"id": decision.rule_id}
                )[:300],
                status=RunStatus.PROPOSED,
                idempotency_key=key,
                created_at=now,
            )
    except IntegrityError:
        return ActionRun.objects.get(idempotency_key=key)  # a concurrent double submit won
    audit_record(
        actor=actor,
        action="action.allowed",
        via=via,
        client_id=product.client_id,
        obj=run,
        request=request,
        detail=f"{action.code} on {channel} by rule #{decision.rule_id}: {data}",
    )
    _case_event(
        case, actor, action.code, _("requested: %(name)s") % {"name": action.name}, now, run=run
    )
    if action.executor == ExecutorKind.WEBHOOK:
        webhook_queue(
            key=f"action:{run.pk}",
            payload=_webhook_payload(run),
            case=case,
            on_result=ON_RESULT,
            now=now,
        )
        _set_status(run, RunStatus.QUEUED)
        audit_record(actor=actor, action="action.queued", via=via, client_id=run.client_id, obj=run)
    elif action.executor == ExecutorKind.HANDOFF:
        _hand_off(run, actor, now)
    else:
        _apply_effect(run, {}, now)
        _finish(run, RunStatus.SUCCEEDED, {"status": "done"}, now)
    return run


def _set_status(run: ActionRun, status: str, **fields) -> None:
    run.status = status
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=["status", *fields])


def _webhook_payload(run: ActionRun) -> dict:
    product = run.product
    return {
        "operation": run.action.input_kind,
        "action": run.action.code,
        "client_id": run.client_id,
        "product": {
            "id": product.pk,
            "kind": product.kind,
            "number": product.number,
            "name": product.name,
        },
        "restriction": (
            {"id": run.restriction.pk, "kind": run.restriction.kind} if run.restriction else None
        ),
        "input": run.input,
        "case_id": run.case_id,
        "channel": run.channel,
        "operator": run.actor.username if run.actor else "",
        "requested_at": run.created_at.isoformat(),
    }


def _input_text(run: ActionRun) -> str:
    spec = input_spec(run.action.input_kind)
    lines = []
    for f in spec.fields:
        value = run.input.get(f.name)
        if f.widget == "hidden" or value in (None, ""):
            continue
        lines.append(f"{f.label}: {value}")
    return "\n".join(lines)


def _hand_off(run: ActionRun, actor: User, now: datetime) -> None:
    from otklik.handoffs.services import handoff_send

    action = run.action
    if action.department is None:
        raise ServiceError({"action": _("No department is set for this action.")})
    product = run.product
    question = _("Please do: %(action)s. Product: %(product)s %(number)s.") % {
        "action": action.name,
        "product": product.name,
        "number": product.number,
    }
    details = _input_text(run)
    if details:
        question = f"{question}\n{details}"
    handoff = handoff_send(
        actor=actor, case=run.case, department=action.department, question=question, now=now
    )
    _set_status(run, RunStatus.HANDED_OFF, handoff=handoff, result={"handoff_id": handoff.pk})
    audit_record(
        actor=actor,
        action="action.handed_off",
        via="workspace",
        client_id=run.client_id,
        obj=run,
        detail=f"{action.code} → {action.department.code} handoff #{handoff.pk}",
    )


def _check_tariff(data: dict, product: Product) -> None:
    """Only a tariff the provider sells (offered in the form) may be asked for."""
    if tariff_offered_get(product=product, name=data["tariff_name"]) is None:
        raise ServiceError({"tariff_name": _("Choose a tariff from the list.")})


def _apply_effect(run: ActionRun, answer: dict, now: datetime) -> None:
    """What a confirmed action changes in Otklik's own copy of the product."""
    kind = run.action.input_kind
    product = Product.objects.select_for_update().filter(pk=run.product_id).first()
    if product is None:
        return
    if kind == "lift_restriction" and run.restriction is not None:
        restriction_lift(restriction=run.restriction, actor=run.actor, now=now)
    elif kind == "disable_service":
        product.status = ProductStatus.CLOSED
        product.closed_on = timezone.localdate(now)
        product.save(update_fields=["status", "closed_on"])
        if product.kind == ProductKind.TELECOM_SERVICE and product.details.get("reserves_balance"):
            _release_reserve(product)
    elif kind == "change_tariff":
        # The old tariff's prices no longer apply: keep what the back office says of the new
        # one, and show nothing rather than a stale price.
        details = dict(product.details)
        tariff = Tariff.objects.filter(
            Q(provider="") | Q(provider=product.provider), name=run.input["tariff_name"]
        ).first()
        listed = {
            "monthly_fee": str(tariff.monthly_fee) if tariff else None,
            "internet_billing": (tariff.internet_billing or None) if tariff else None,
        }
        for key in ("monthly_fee", "internet_billing"):
            value = answer.get(key, listed[key])
            if value is not None:
                details[key] = value
            else:
                details.pop(key, None)
        product.name = run.input["tariff_name"][:200]
        product.details = validate_details(product.kind, details)
        product.save(update_fields=["name", "details"])
    elif kind == "refund_charge" and product.kind == ProductKind.TELECOM_TARIFF:
        details = dict(product.details)
        details["balance"] = str(
            Decimal(str(details.get("balance", "0"))) + Decimal(run.input["amount"])
        )
        product.details = validate_details(product.kind, details)
        product.save(update_fields=["details"])


def _release_reserve(service: Product) -> None:
    """A disabled pay-as-you-go service no longer holds money on the tariff's balance."""
    tariffs = Product.objects.select_for_update().filter(
        client_id=service.client_id, kind=ProductKind.TELECOM_TARIFF
    )
    for tariff in tariffs:
        if Decimal(str(tariff.details.get("reserved", "0"))) != 0:
            tariff.details = validate_details(tariff.kind, {**tariff.details, "reserved": "0"})
            tariff.save(update_fields=["details"])


def _finish(run: ActionRun, status: str, result: dict, now: datetime) -> None:
    _set_status(run, status, result=result, finished_at=now)
    done = status == RunStatus.SUCCEEDED
    reference = result.get("reference", "")
    if done:
        text = _("Done: %(action)s.") % {"action": run.action.name}
        if reference:
            text += " " + _("Back-office reference %(ref)s.") % {"ref": reference}
    else:
        text = _("Not done: %(action)s. %(reason)s") % {
            "action": run.action.name,
            "reason": result.get("reason") or result.get("error") or "",
        }
    audit_record(
        actor=None,
        action="action.succeeded" if done else "action.failed",
        via="backoffice",
        client_id=run.client_id,
        obj=run,
        detail=f"{run.action.code}: {text}",
    )
    if run.case is not None:
        # One history row that replaces the "requested" one in the case history (same run);
        # no separate system note: it said the same thing a third time.
        _case_event(run.case, run.actor, run.action.code, text.strip(), now, run=run)
    if run.actor_id:
        publish(
            user_ids=[run.actor_id],
            kind="action.done" if done else "action.failed",
            text=text.strip(),
            case=run.case,
            payload={"run_id": run.pk, "status": status},
        )


def action_run_finished(*, call: BackofficeCall, step: StepResult) -> None:
    """Called once when the back office has answered a run's webhook for good."""
    run_id = int(call.key.split(":", 1)[1])
    run = (
        ActionRun.objects.select_for_update(of=("self",))
        .select_related("action", "case", "product", "restriction", "actor")
        .filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        .first()
    )
    if run is None:
        return
    now = timezone.now()
    if step.status == "done":
        _apply_effect(run, step.result, now)
        _finish(run, RunStatus.SUCCEEDED, step.result, now)
    else:
        _finish(run, RunStatus.FAILED, step.result, now)


# --- client flags ------------------------------------------------------------------------


@transaction.atomic
def client_flag_set(
    *,
    actor: User,
    client: Client,
    flag: str = ClientFlagKind.SECURITY_VERIFIED,
    note: str = "",
    hours: int | None = 24,
    case: Case | None = None,
    via: str = "workspace",
    request=None,
    now: datetime | None = None,
) -> ClientFlag:
    """Mark a client (e.g. "verified by security") for `hours` (None: until removed)."""
    now = now or timezone.now()
    if flag not in ClientFlagKind.values:
        raise ServiceError({"flag": _("Unknown flag.")})
    if not can_set_client_flag(user=actor, flag=flag):
        raise ServiceError({"flag": _("Only the security department can mark a client verified.")})
    note = (note or "").strip()[:300]
    expires = now + timedelta(hours=hours) if hours else None
    row, _created = ClientFlag.objects.update_or_create(
        client=client,
        flag=flag,
        defaults={"note": note, "set_by": actor, "set_at": now, "expires_at": expires},
    )
    audit_record(
        actor=actor,
        action="client_flag.set",
        via=via,
        client_id=client.pk,
        obj=row,
        request=request,
        detail=f"{flag} until {expires.isoformat() if expires else '-'} {note}",
    )
    open_cases = list(Case.objects.filter(client=client, is_open=True).filter(~Q(owner=None)))
    label = row.get_flag_display()
    for open_case in open_cases:
        _case_event(open_case, actor, "client_flag", str(label), now)
    publish(
        user_ids=[c.owner_id for c in open_cases if c.owner_id != actor.pk],
        kind="client.flag",
        text=_("%(client)s: %(flag)s") % {"client": client.full_name, "flag": label},
        payload={"client_id": client.pk, "flag": flag},
    )
    return row


@transaction.atomic
def client_flag_clear(
    *, actor: User, client: Client, flag: str, via: str = "workspace", request=None
) -> bool:
    if not can_set_client_flag(user=actor, flag=flag):
        raise ServiceError({"flag": _("Only the security department can change this mark.")})
    deleted, _rows = ClientFlag.objects.filter(client=client, flag=flag).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="client_flag.cleared",
            via=via,
            client_id=client.pk,
            request=request,
            detail=flag,
        )
    return bool(deleted)
