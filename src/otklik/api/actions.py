"""Operator actions through the API: the same service, the same policy as the workspace."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Header, Query, Router, Schema, Status

from otklik.actions.models import ActionRun
from otklik.actions.selectors import product_named_in_request, run_list_for_user
from otklik.actions.services import ActionDenied, action_request
from otklik.api.cases import visible_case
from otklik.api.schemas import WRITE_ERRORS, Channel

router = Router(tags=["actions"])

IdempotencyKeyRequired = Header(
    ...,
    alias="Idempotency-Key",
    min_length=1,
    max_length=200,
    pattern=r"^[\x21-\x7e]+$",
    description="Required: the same key returns the first run; the action is done once.",
)


class ActionIn(Schema):
    action_code: str = Field(max_length=60)
    product_id: int = Field(ge=1)
    case_id: int = Field(ge=1)
    channel: Channel
    input: dict[str, Any] = Field(default_factory=dict)


class RunOut(Schema):
    id: int
    action_code: str
    action_name: str
    status: str
    channel: str
    case_id: int | None
    product_id: int | None
    restriction_id: int | None
    input: dict[str, Any]
    decision_rule_id: int | None
    decision_reason: str
    result: dict[str, Any]
    actor: str
    created_at: datetime
    finished_at: datetime | None


class RefusedOut(Schema):
    detail: str
    alternative: str
    rule_id: int | None


class RunQuery(Schema):
    case_id: int = Field(ge=1)


def run_out(run: ActionRun) -> dict:
    return {
        "id": run.pk,
        "action_code": run.action.code,
        "action_name": run.action.name,
        "status": run.status,
        "channel": run.channel,
        "case_id": run.case_id,
        "product_id": run.product_id,
        "restriction_id": run.restriction_id,
        "input": run.input,
        "decision_rule_id": run.decision_rule_id,
        "decision_reason": run.decision_reason,
        "result": run.result,
        "actor": run.actor.username if run.actor else "",
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


@router.post(
    "/actions",
    response={200: RunOut, 201: RunOut, **WRITE_ERRORS, 403: RefusedOut},
)
def actions_run(
    request: HttpRequest,
    response: HttpResponse,
    payload: ActionIn,
    idempotency_key: str = IdempotencyKeyRequired,
):
    """Request an action on a product. Refused by the policy: 403 with why and what instead
    (the refusal is audited). A repeat with the same Idempotency-Key returns the first run."""
    user = request.auth
    case = visible_case(user, payload.case_id)
    product = product_named_in_request(user=user, product_id=payload.product_id)
    try:
        run = action_request(
            actor=user,
            case=case,
            product=product,
            action_code=payload.action_code,
            input=payload.input,
            channel=payload.channel,
            idempotency_key=idempotency_key,
            via="api",
            request=request,
        )
    except ActionDenied as exc:
        decision = exc.decision
        return Status(
            403,
            {
                "detail": decision.reason,
                "alternative": decision.alternative,
                "rule_id": decision.rule_id,
            },
        )
    if getattr(run, "replayed", False):
        response["Idempotent-Replayed"] = "true"
        return Status(200, run_out(run))
    return Status(201, run_out(run))


@router.get("/actions/runs", response={200: list[RunOut], 401: Any, 404: Any, 422: Any})
def actions_runs(request: HttpRequest, query: Query[RunQuery]):
    """Recent action runs on a case, newest first."""
    runs = run_list_for_user(user=request.auth, case_id=query.case_id)
    return Status(200, [run_out(r) for r in runs])
