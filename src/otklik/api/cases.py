"""Cases: the queue, intake, fields, lifecycle, messages and history."""

from collections.abc import Callable
from datetime import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router

from otklik.accounts.selectors import team_get, user_get_active
from otklik.api.idempotency import IdempotencyKeyHeader, idempotent
from otklik.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    CaseBatchIn,
    CaseBatchOut,
    CaseCreateIn,
    CaseMessageOut,
    CaseOut,
    CasePage,
    CasePatchIn,
    CaseQuery,
    EventPage,
    MessageIn,
    MessagePage,
    PageQuery,
    PathId,
    TopicOut,
    TransitionIn,
    TransitionsOut,
    user_ref,
)
from otklik.audit.services import audit_record, audit_records_bulk
from otklik.cases.lifecycle import allowed_targets
from otklik.cases.models import Case, Message, Topic
from otklik.cases.selectors import (
    QueueFilters,
    can_edit_case,
    case_get_for_user,
    case_queue,
    page_of,
    topic_get,
    topic_list_active,
    topics_get,
)
from otklik.cases.services import (
    CaseDraft,
    case_transition,
    case_update,
    cases_open,
    message_add,
)
from otklik.clients.models import Client
from otklik.clients.selectors import client_get_for_user, clients_get_for_user
from otklik.common.errors import ServiceError

router = Router(tags=["cases"])


def _ref(obj, name: str = "name") -> dict | None:
    return {"id": obj.pk, "name": getattr(obj, name)} if obj is not None else None


def case_out(case: Case, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "id": case.pk,
        "reference": case.reference,
        "subject": case.subject,
        "status": case.status,
        "priority": case.priority,
        "channel": case.channel,
        "client": {"id": case.client.pk, "full_name": case.client.full_name},
        "topic": _ref(case.topic),
        "team": _ref(case.team),
        "owner": user_ref(case.owner),
        "is_open": case.is_open,
        "is_overdue": bool(case.is_open and case.due_at and case.due_at < now),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "due_at": case.due_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
    }


def message_out(message: Message) -> dict:
    return {
        "id": message.pk,
        "case_id": message.case_id,
        "author": user_ref(message.author),
        "author_kind": message.author_kind,
        "visibility": message.visibility,
        "body": message.body,
        "created_at": message.created_at,
    }


def visible_client(user, client_id: int, field: str = "client_id") -> Client:
    """A client named in a request body: invisible and missing look the same (422, no leak)."""
    try:
        return client_get_for_user(user=user, client_id=client_id)
    except Http404:
        raise ServiceError({field: _("No such client.")}) from None


def visible_case(user, case_id: int, field: str = "case_id") -> Case:
    try:
        return case_get_for_user(user=user, case_id=case_id)
    except Http404:
        raise ServiceError({field: _("No such case.")}) from None


def topic_or_error(topic_id: int | None) -> Topic | None:
    if topic_id is None:
        return None
    topic = topic_get(topic_id=topic_id)
    if topic is None:
        raise ServiceError({"topic_id": _("No such topic.")})
    return topic


def _audit_case(request: HttpRequest, case: Case, action: str) -> None:
    audit_record(
        actor=request.auth,
        action=action,
        via="api",
        client_id=case.client_id,
        obj=case,
        request=request,
    )


@router.get("/topics", response={200: list[TopicOut], **READ_ERRORS})
def topics_list(request: HttpRequest):
    """Active topics to classify a case with."""
    return list(topic_list_active())


@router.get("/cases", response={200: CasePage, **READ_ERRORS})
def cases_list(request: HttpRequest, query: Query[CaseQuery]):
    """The queue: cases the caller may see, filtered and sorted, one page at a time."""
    user = request.auth
    filters = QueueFilters(
        scope=query.scope,
        status=query.status,
        channel=query.channel or "",
        topic_id=query.topic_id,
        client_id=query.client_id,
        overdue=query.overdue,
        sort=query.sort,
    )
    now = timezone.now()
    cases, has_next = page_of(
        case_queue(user=user, filters=filters, now=now), page=query.page, size=query.page_size
    )
    audit_records_bulk(
        actor=user,
        action="case.list",
        via="api",
        client_ids=sorted({c.client_id for c in cases}),
        request=request,
    )
    return {
        "items": [case_out(c, now) for c in cases],
        "page": query.page,
        "page_size": query.page_size,
        "has_next": has_next,
    }


def intake_drafts(
    user, items: list[CaseCreateIn], *, field: Callable[[int, str], str]
) -> list[CaseDraft]:
    """The drafts for intake items, clients and topics looked up in one query each.

    A client the user may not see is reported like a missing one; `field` names the
    offending field of the item at a position (`client_id`, or `cases.3.client_id`).
    """
    clients = clients_get_for_user(user=user, client_ids=[i.client_id for i in items])
    topics = topics_get(topic_ids=[i.topic_id for i in items if i.topic_id is not None])
    errors: dict[str, list[str]] = {}
    for position, item in enumerate(items):
        if item.client_id not in clients:
            errors[field(position, "client_id")] = [_("No such client.")]
        if item.topic_id is not None and item.topic_id not in topics:
            errors[field(position, "topic_id")] = [_("No such topic.")]
    if errors:
        raise ServiceError(errors)
    return [
        CaseDraft(
            client=clients[item.client_id],
            subject=item.subject,
            channel=item.channel,
            topic=topics.get(item.topic_id) if item.topic_id is not None else None,
            priority=item.priority,
            description=item.description,
        )
        for item in items
    ]


# Before /cases/{case_id}: Django matches URL patterns in order.
@router.post("/cases/batch", response={201: CaseBatchOut, **WRITE_ERRORS})
def cases_create_batch(
    request: HttpRequest,
    response: HttpResponse,
    payload: CaseBatchIn,
    idempotency_key: str | None = IdempotencyKeyHeader,
):
    """Intake of up to 100 cases in one request: all are opened or none.

    Each case is opened as `POST /cases` would open it. A refusal names the case by its
    position, e.g. `cases.3.topic_id`. The Idempotency-Key covers the whole batch.
    """
    user = request.auth
    items = payload.cases

    def lookups() -> list[CaseDraft]:
        return intake_drafts(user, items, field=lambda position, name: f"cases.{position}.{name}")

    def create(drafts: list[CaseDraft]) -> tuple[int, dict]:
        cases = cases_open(actor=user, drafts=drafts)
        body = CaseBatchOut.model_validate({"items": [case_out(c) for c in cases]})
        return 201, body.model_dump(mode="json")

    return idempotent(
        request=request,
        response=response,
        user=user,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        prepare=lookups,
        create=create,
    )


@router.get("/cases/{case_id}", response={200: CaseOut, **READ_ERRORS})
def cases_get(request: HttpRequest, case_id: PathId):
    case = case_get_for_user(user=request.auth, case_id=case_id)
    _audit_case(request, case, "case.view")
    return case_out(case)


@router.post("/cases", response={201: CaseOut, **WRITE_ERRORS})
def cases_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: CaseCreateIn,
    idempotency_key: str | None = IdempotencyKeyHeader,
):
    """Intake: open a case for a client. Retry with the same Idempotency-Key is safe."""
    user = request.auth

    def lookups() -> list[CaseDraft]:
        return intake_drafts(user, [payload], field=lambda _position, name: name)

    def create(drafts: list[CaseDraft]) -> tuple[int, dict]:
        (case,) = cases_open(actor=user, drafts=drafts, numbered=False)
        return 201, CaseOut.model_validate(case_out(case)).model_dump(mode="json")

    return idempotent(
        request=request,
        response=response,
        user=user,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        prepare=lookups,
        create=create,
    )


@router.patch("/cases/{case_id}", response={200: CaseOut, **WRITE_ERRORS})
def cases_update(request: HttpRequest, case_id: PathId, payload: CasePatchIn):
    """Change subject, topic, priority, owner or team; only the fields sent."""
    user = request.auth
    case = case_get_for_user(user=user, case_id=case_id)
    sent = payload.model_dump(exclude_unset=True)
    changes: dict = {}
    for name in ("subject", "priority"):
        if name in sent:
            if sent[name] is None:
                raise ServiceError({name: _("This field cannot be empty.")})
            changes[name] = sent[name]
    if "topic_id" in sent:
        changes["topic"] = topic_or_error(sent["topic_id"])
    if "owner_id" in sent:
        owner = None
        if sent["owner_id"] is not None:
            owner = user_get_active(user_id=sent["owner_id"])
            if owner is None:
                raise ServiceError({"owner_id": _("No such active user.")})
        changes["owner"] = owner
    if "team_id" in sent:
        team = None
        if sent["team_id"] is not None:
            team = team_get(team_id=sent["team_id"])
            if team is None:
                raise ServiceError({"team_id": _("No such team.")})
        changes["team"] = team
    case = case_update(actor=user, case=case, **changes)
    return case_out(case)


@router.get("/cases/{case_id}/transitions", response={200: TransitionsOut, **READ_ERRORS})
def cases_transitions(request: HttpRequest, case_id: PathId):
    """Statuses the caller may move the case to now."""
    case = case_get_for_user(user=request.auth, case_id=case_id)
    allowed = allowed_targets(case.status) if can_edit_case(user=request.auth, case=case) else []
    return {"status": case.status, "allowed": allowed}


@router.post("/cases/{case_id}/transition", response={200: CaseOut, **WRITE_ERRORS})
def cases_transition(request: HttpRequest, case_id: PathId, payload: TransitionIn):
    """Move the case along its lifecycle; a refused move is a 422 naming `status`."""
    case = case_get_for_user(user=request.auth, case_id=case_id)
    case = case_transition(actor=request.auth, case=case, to_status=payload.status)
    return case_out(case)


@router.get("/cases/{case_id}/messages", response={200: MessagePage, **READ_ERRORS})
def cases_messages(request: HttpRequest, case_id: PathId, query: Query[PageQuery]):
    """Internal notes and replies to the client, oldest first."""
    case = case_get_for_user(user=request.auth, case_id=case_id)
    messages, has_next = page_of(
        case.messages.select_related("author").order_by("created_at", "id"),
        page=query.page,
        size=query.page_size,
    )
    _audit_case(request, case, "case.messages.view")
    return {
        "items": [message_out(m) for m in messages],
        "page": query.page,
        "page_size": query.page_size,
        "has_next": has_next,
    }


@router.post("/cases/{case_id}/messages", response={201: CaseMessageOut, **WRITE_ERRORS})
def cases_messages_create(
    request: HttpRequest,
    response: HttpResponse,
    case_id: PathId,
    payload: MessageIn,
    idempotency_key: str | None = IdempotencyKeyHeader,
):
    """Add an internal note or a reply the client sees."""
    user = request.auth
    case = case_get_for_user(user=user, case_id=case_id)

    def create() -> tuple[int, dict]:
        message = message_add(
            actor=user, case=case, body=payload.body, visibility=payload.visibility
        )
        return 201, CaseMessageOut.model_validate(message_out(message)).model_dump(mode="json")

    return idempotent(
        request=request,
        response=response,
        user=user,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        create=create,
    )


@router.get("/cases/{case_id}/events", response={200: EventPage, **READ_ERRORS})
def cases_events(request: HttpRequest, case_id: PathId, query: Query[PageQuery]):
    """The case history: who changed what and when."""
    case = case_get_for_user(user=request.auth, case_id=case_id)
    events, has_next = page_of(
        case.events.select_related("actor").order_by("created_at", "id"),
        page=query.page,
        size=query.page_size,
    )
    _audit_case(request, case, "case.events.view")
    items = [
        {
            "id": e.pk,
            "kind": e.kind,
            "field": e.field,
            "old_value": e.old_value,
            "new_value": e.new_value,
            "actor": user_ref(e.actor),
            "created_at": e.created_at,
        }
        for e in events
    ]
    return {"items": items, "page": query.page, "page_size": query.page_size, "has_next": has_next}
