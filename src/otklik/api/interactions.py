"""Interactions: each call, chat or e-mail, attached to a case it continues or opens."""

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from otklik.api.cases import topic_or_error, visible_case, visible_client
from otklik.api.idempotency import IdempotencyKeyHeader, idempotent
from otklik.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InteractionIn,
    InteractionOut,
    InteractionPage,
    InteractionQuery,
    user_ref,
)
from otklik.audit.services import audit_records_bulk
from otklik.cases.models import Interaction
from otklik.cases.selectors import interaction_list_for_user, page_of
from otklik.cases.services import interaction_register

router = Router(tags=["interactions"])


def interaction_out(interaction: Interaction) -> dict:
    return {
        "id": interaction.pk,
        "client_id": interaction.client_id,
        "case_id": interaction.case_id,
        "channel": interaction.channel,
        "direction": interaction.direction,
        "operator": user_ref(interaction.operator),
        "summary": interaction.summary,
        "external_ref": interaction.external_ref,
        "started_at": interaction.started_at,
        "ended_at": interaction.ended_at,
    }


@router.get("/interactions", response={200: InteractionPage, **READ_ERRORS})
def interactions_list(request: HttpRequest, query: Query[InteractionQuery]):
    """Interactions of a case or a client, newest first; without filters, the caller's own."""
    user = request.auth
    rows, has_next = page_of(
        interaction_list_for_user(user=user, client_id=query.client_id, case_id=query.case_id),
        page=query.page,
        size=query.page_size,
    )
    audit_records_bulk(
        actor=user,
        action="interaction.list",
        via="api",
        client_ids=sorted({i.client_id for i in rows}),
        request=request,
    )
    return {
        "items": [interaction_out(i) for i in rows],
        "page": query.page,
        "page_size": query.page_size,
        "has_next": has_next,
    }


@router.post("/interactions", response={201: InteractionOut, **WRITE_ERRORS})
def interactions_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: InteractionIn,
    idempotency_key: str | None = IdempotencyKeyHeader,
):
    """Register a contact: continue `case_id`, or open a new case with `subject`."""
    user = request.auth

    def create() -> tuple[int, dict]:
        client = visible_client(user, payload.client_id)
        case = visible_case(user, payload.case_id) if payload.case_id is not None else None
        interaction = interaction_register(
            actor=user,
            client=client,
            channel=payload.channel,
            case=case,
            new_case_subject=payload.subject,
            topic=topic_or_error(payload.topic_id),
            priority=payload.priority,
            direction=payload.direction,
            summary=payload.summary,
            external_ref=payload.external_ref,
        )
        return 201, InteractionOut.model_validate(interaction_out(interaction)).model_dump(
            mode="json"
        )

    return idempotent(
        request=request,
        response=response,
        user=user,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        create=create,
    )
