"""Request and response shapes of the JSON API.

Input types are bounded (ids fit a bigint, strings fit their columns, no NUL characters)
so that a malformed request is a 422 naming the field, never a database error.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from ninja import Field, Path, Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from otklik.cases.models import CaseStatus, Direction, MessageVisibility
from otklik.clients.models import ChannelKind, ProductKind, ProductStatus, Segment

MAX_ID = 2**63 - 1
MAX_PAGE = 10_000


def _clean_text(value: str) -> str:
    """PostgreSQL refuses NUL and lone surrogates; refuse them here, with the field named."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, Field(max_length=max_length, min_length=min_length), AfterValidator(_clean_text)
    ]


Text40 = _text(40)
Text64 = _text(64)
Text100 = _text(100)
Text200 = _text(200)
Text300 = _text(300)
Text5000 = _text(5000)
Text20k = _text(20_000)
Name100 = _text(100, 1)
Name200 = _text(200, 1)


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Path[int, {"ge": 1, "le": MAX_ID}]
PriorityValue = Annotated[int, Field(ge=1, le=4)]
Channel = Literal[tuple(ChannelKind.values)]
Status = Literal[tuple(CaseStatus.values)]


class Input(BaseModel):
    """A request body: a JSON object with known fields only (a typo is an error, not a no-op).

    Plain pydantic rather than ninja's Schema, which would read attributes off any value
    and so accept a JSON array as an empty PATCH.
    """

    model_config = ConfigDict(extra="forbid")


# --- errors -------------------------------------------------------------------------------


class ErrorItem(Schema):
    loc: list[str | int] = Field(description="Where the error is: body/query/path/header, name")
    msg: str
    type: str
    field: str = Field(description="The offending field as a dotted path, e.g. details.pan")


class ValidationErrorOut(Schema):
    detail: list[ErrorItem]


class MessageOut(Schema):
    detail: str


READ_ERRORS = {401: MessageOut, 404: MessageOut, 422: ValidationErrorOut}
WRITE_ERRORS = {**READ_ERRORS, 400: ValidationErrorOut, 403: MessageOut, 409: ValidationErrorOut}


# --- shared pieces ------------------------------------------------------------------------


class Ref(Schema):
    """A related object by id with a human-readable name."""

    id: int
    name: str


class Page(Schema):
    """A page of a list. There is no total: counting millions of rows is not worth it."""

    page: int
    page_size: int
    has_next: bool


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(
        settings.QUEUE_PAGE_SIZE,
        ge=1,
        le=settings.API_MAX_PAGE_SIZE,
        description=f"At most {settings.API_MAX_PAGE_SIZE}",
    )


def user_ref(user) -> dict | None:
    return {"id": user.pk, "name": user.display_name} if user is not None else None


# --- clients ------------------------------------------------------------------------------


class ClientQuery(PageQuery):
    q: Text200 = Field(
        "", description="Refused when not empty: search with POST /clients/search instead"
    )


class ClientSearchIn(Input):
    q: Text200 = Field("", description="Name, phone, e-mail, contract, account or card number")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(
        settings.QUEUE_PAGE_SIZE,
        ge=1,
        le=settings.API_MAX_PAGE_SIZE,
        description=f"At most {settings.API_MAX_PAGE_SIZE}",
    )


class ClientListItem(Schema):
    id: int
    full_name: str
    segment: str
    birth_date: date | None


class ClientPage(Page):
    items: list[ClientListItem]


class ContactOut(Schema):
    id: int
    kind: str
    value: str
    is_primary: bool
    reachability: str
    reachability_note: str


class ClientOut(Schema):
    id: int
    last_name: str
    first_name: str
    patronymic: str
    full_name: str
    greeting_name: str
    birth_date: date | None
    segment: str
    address_as: str
    preferences: str
    personal_manager: Ref | None
    contacts: list[ContactOut]
    created_at: datetime


class ClientCreateIn(Input):
    last_name: Name100
    first_name: Name100
    patronymic: Text100 = ""
    birth_date: date | None = None
    segment: Literal[tuple(Segment.values)] = Segment.MASS.value
    address_as: Text200 = ""
    preferences: Text5000 = ""
    personal_manager_id: Id | None = None
    phones: list[Text40] = Field(default_factory=list, max_length=10)
    emails: list[Text200] = Field(default_factory=list, max_length=10)


class RestrictionOut(Schema):
    id: int
    kind: str
    reason: str
    placed_at: datetime


class ProductOut(Schema):
    id: int
    parent_id: int | None
    kind: str
    name: str
    number: str
    status: str
    provider: str
    opened_on: date | None
    closed_on: date | None
    details: dict[str, Any] = Field(
        description="Typed per kind (card: pan masked to first six and last four, expires, ...)"
    )
    active_restrictions: list[RestrictionOut]


class IdentifiersRevealIn(Input):
    reason: Text300 = Field(description="Why the full numbers are needed (at least 10 characters)")


class ProductIdentifiersOut(Schema):
    product_id: int
    kind: str
    name: str
    number: str
    pan: str


class IdentifiersOut(Schema):
    client_id: int
    items: list[ProductIdentifiersOut]


class ProductCreateIn(Input):
    kind: Literal[tuple(ProductKind.values)]
    name: Name200
    number: Text64 = ""
    details: dict[str, Any] = Field(default_factory=dict)
    parent_id: Id | None = None
    provider: Text200 = ""
    status: Literal[tuple(ProductStatus.values)] = ProductStatus.ACTIVE.value
    opened_on: date | None = None

    @field_validator("details")
    @classmethod
    def _details_text(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _clean_json(value)


# --- cases --------------------------------------------------------------------------------


class CaseQuery(PageQuery):
    scope: Literal["mine", "team", "all"] = "team"
    status: Literal[("open", "any", *CaseStatus.values)] = "open"
    channel: Channel | None = None
    topic_id: Id | None = None
    client_id: Id | None = None
    overdue: bool = False
    sort: Literal["oldest", "newest", "priority", "due"] = "oldest"


class ClientRef(Schema):
    id: int
    full_name: str


class CaseOut(Schema):
    id: int
    reference: str
    subject: str
    status: str
    priority: int
    channel: str
    client: ClientRef
    topic: Ref | None
    team: Ref | None
    owner: Ref | None
    is_open: bool
    is_overdue: bool
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


class CasePage(Page):
    items: list[CaseOut]


class CaseCreateIn(Input):
    client_id: Id
    subject: Text300
    channel: Channel
    topic_id: Id | None = None
    priority: PriorityValue = 2
    description: Text20k = ""


MAX_BATCH = 100


class CaseBatchIn(Input):
    """Up to 100 cases opened together (an e-mail or telephony gateway catching up)."""

    cases: list[CaseCreateIn] = Field(min_length=1, max_length=MAX_BATCH)


class CaseBatchOut(Schema):
    items: list[CaseOut]


class CasePatchIn(Input):
    """Only the fields sent are changed; null clears topic, owner or team."""

    subject: Text300 | None = None
    topic_id: Id | None = None
    priority: PriorityValue | None = None
    owner_id: Id | None = None
    team_id: Id | None = None


class TransitionIn(Input):
    status: Status


class TransitionsOut(Schema):
    status: str
    allowed: list[str]


class MessageIn(Input):
    body: Text20k
    visibility: Literal[tuple(MessageVisibility.values)] = "internal"


class CaseMessageOut(Schema):
    id: int
    case_id: int
    author: Ref | None
    author_kind: str
    visibility: str
    body: str
    created_at: datetime


class MessagePage(Page):
    items: list[CaseMessageOut]


class EventOut(Schema):
    id: int
    kind: str
    field: str
    old_value: str
    new_value: str
    actor: Ref | None
    created_at: datetime


class EventPage(Page):
    items: list[EventOut]


class TopicOut(Schema):
    id: int
    name: str
    parent_id: int | None


# --- interactions -------------------------------------------------------------------------


class InteractionQuery(PageQuery):
    client_id: Id | None = None
    case_id: Id | None = None


class InteractionIn(Input):
    """Continue a case (`case_id`) or open a new one (`subject`)."""

    client_id: Id
    channel: Channel
    case_id: Id | None = None
    subject: Text300 = ""
    topic_id: Id | None = None
    priority: PriorityValue = 2
    direction: Literal[tuple(Direction.values)] = "inbound"
    summary: Text20k = ""
    external_ref: Text100 = ""


class InteractionOut(Schema):
    id: int
    client_id: int
    case_id: int | None
    channel: str
    direction: str
    operator: Ref | None
    summary: str
    external_ref: str
    started_at: datetime
    ended_at: datetime | None


class InteractionPage(Page):
    items: list[InteractionOut]
