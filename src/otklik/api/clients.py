"""Clients and their products. Every read of personal data leaves an audit record."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.errors import HttpError

from otklik.accounts.selectors import user_get_active
from otklik.api.idempotency import IdempotencyKeyHeader, idempotent
from otklik.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    ClientCreateIn,
    ClientOut,
    ClientPage,
    ClientQuery,
    ClientSearchIn,
    IdentifiersOut,
    IdentifiersRevealIn,
    PathId,
    ProductCreateIn,
    ProductOut,
    user_ref,
)
from otklik.audit.services import audit_record, audit_records_bulk
from otklik.cases.selectors import page_of
from otklik.clients.identifiers import client_identifiers_reveal
from otklik.clients.models import Client, Product
from otklik.clients.selectors import (
    ProductView,
    client_get_for_user,
    client_list_for_user,
    client_products,
    client_search,
    product_get_for_client,
)
from otklik.clients.services import client_create, product_create
from otklik.common.errors import ServiceError
from otklik.common.masking import mask_account_number, mask_product_details

router = Router(tags=["clients"])

# Search answers come from a prefix index; paging deeper than this is not a search any more.
SEARCH_MAX_RESULTS = 1000


def client_out(client: Client) -> dict:
    return {
        "id": client.pk,
        "last_name": client.last_name,
        "first_name": client.first_name,
        "patronymic": client.patronymic,
        "full_name": client.full_name,
        "greeting_name": client.greeting_name,
        "birth_date": client.birth_date,
        "segment": client.segment,
        "address_as": client.address_as,
        "preferences": client.preferences,
        "personal_manager": user_ref(client.personal_manager),
        "contacts": list(client.contacts.all()),
        "created_at": client.created_at,
    }


def _flatten(views: list[ProductView]) -> list[dict]:
    """The product tree as a flat list, each child right after its parent.

    Card and account numbers are masked: the full ones come only from
    `POST /clients/{id}/identifiers/reveal`, with a reason, for those allowed.
    """
    out: list[dict] = []
    for view in views:
        product: Product = view.product
        out.append(
            {
                **{
                    f: getattr(product, f)
                    for f in (
                        "id",
                        "parent_id",
                        "kind",
                        "name",
                        "status",
                        "provider",
                        "opened_on",
                        "closed_on",
                    )
                },
                "number": mask_account_number(product.number),
                "details": mask_product_details(product.kind, product.details),
                "active_restrictions": view.restrictions,
            }
        )
        out += _flatten(view.children)
    return out


def _search_page(request: HttpRequest, *, q: str, page: int, size: int) -> dict:
    user = request.auth
    start = (page - 1) * size
    if q.strip():
        found = client_search(
            user=user, query=q, limit=min(start + size + 1, SEARCH_MAX_RESULTS + 1)
        )
        rows = found[start : start + size + 1]
        items, has_next = rows[:size], len(rows) > size and start + size < SEARCH_MAX_RESULTS
        action = "client.search"
    else:
        qs = client_list_for_user(user=user).order_by("id")
        items, has_next = page_of(qs, page=page, size=size)
        action = "client.list"
    audit_records_bulk(
        actor=user, action=action, via="api", client_ids=[c.pk for c in items], request=request
    )
    return {"items": items, "page": page, "page_size": size, "has_next": has_next}


@router.get("/clients", response={200: ClientPage, **READ_ERRORS})
def clients_list(request: HttpRequest, query: Query[ClientQuery]):
    """List the clients one may see. To search, use `POST /clients/search`: a name, phone or
    card number in a URL would stay in every proxy's and server's access log."""
    if query.q.strip():
        raise ServiceError(
            {
                "q": _(
                    "Search with POST /api/clients/search: a query in the address would "
                    "stay in access logs."
                )
            }
        )
    return _search_page(request, q="", page=query.page, size=query.page_size)


@router.post("/clients/search", response={200: ClientPage, **READ_ERRORS})
def clients_search(request: HttpRequest, payload: ClientSearchIn):
    """Search clients by name, phone, e-mail, contract, account or card number (in the body,
    never in the address); an empty `q` lists them."""
    return _search_page(request, q=payload.q, page=payload.page, size=payload.page_size)


@router.get("/clients/{client_id}", response={200: ClientOut, **READ_ERRORS})
def clients_get(request: HttpRequest, client_id: PathId):
    """The client card: contacts with reachability notes and the personal manager."""
    client = client_get_for_user(user=request.auth, client_id=client_id)
    audit_record(
        actor=request.auth,
        action="client.view",
        via="api",
        client_id=client.pk,
        obj=client,
        request=request,
    )
    return client_out(client)


@router.get("/clients/{client_id}/products", response={200: list[ProductOut], **READ_ERRORS})
def clients_products(request: HttpRequest, client_id: PathId):
    """Products with typed details and active restrictions; children follow their parent."""
    client = client_get_for_user(user=request.auth, client_id=client_id)
    audit_record(
        actor=request.auth,
        action="client.products.view",
        via="api",
        client_id=client.pk,
        obj=client,
        request=request,
    )
    return _flatten(client_products(client=client))


@router.post(
    "/clients/{client_id}/identifiers/reveal",
    response={200: IdentifiersOut, **WRITE_ERRORS},
)
def clients_identifiers_reveal(
    request: HttpRequest, client_id: PathId, payload: IdentifiersRevealIn
):
    """Full card and account numbers of the client, for supervisors, administrators and staff
    with the `clients.view_full_identifiers` permission; the `reason` goes to the access log.
    Anyone else gets 403."""
    client = client_get_for_user(user=request.auth, client_id=client_id)
    try:
        rows = client_identifiers_reveal(
            user=request.auth, client=client, reason=payload.reason, via="api", request=request
        )
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return {"client_id": client.pk, "items": [row.__dict__ for row in rows]}


@router.post("/clients", response={201: ClientOut, **WRITE_ERRORS})
def clients_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: ClientCreateIn,
    idempotency_key: str | None = IdempotencyKeyHeader,
):
    """Create a client with phones and e-mails; they are searchable at once."""
    user = request.auth

    def create() -> tuple[int, dict]:
        manager = None
        if payload.personal_manager_id is not None:
            manager = user_get_active(user_id=payload.personal_manager_id)
            if manager is None:
                raise ServiceError({"personal_manager_id": _("No such active user.")})
        client = client_create(
            actor=user,
            last_name=payload.last_name,
            first_name=payload.first_name,
            patronymic=payload.patronymic,
            birth_date=payload.birth_date,
            segment=payload.segment,
            address_as=payload.address_as,
            preferences=payload.preferences,
            personal_manager=manager,
            phones=payload.phones,
            emails=payload.emails,
        )
        audit_record(
            actor=user,
            action="client.create",
            via="api",
            client_id=client.pk,
            obj=client,
            request=request,
        )
        return 201, ClientOut.model_validate(client_out(client)).model_dump(mode="json")

    return idempotent(
        request=request,
        response=response,
        user=user,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        create=create,
    )


@router.post("/clients/{client_id}/products", response={201: ProductOut, **WRITE_ERRORS})
def clients_products_create(
    request: HttpRequest,
    response: HttpResponse,
    client_id: PathId,
    payload: ProductCreateIn,
    idempotency_key: str | None = IdempotencyKeyHeader,
):
    """Add a product; `details` is validated for its kind (errors name e.g. `details.pan`)."""
    user = request.auth
    client = client_get_for_user(user=user, client_id=client_id)

    def create() -> tuple[int, dict]:
        parent = None
        if payload.parent_id is not None:
            parent = product_get_for_client(client=client, product_id=payload.parent_id)
            if parent is None:
                raise ServiceError({"parent_id": _("The client has no such product.")})
        product = product_create(
            actor=user,
            client=client,
            kind=payload.kind,
            name=payload.name,
            number=payload.number,
            details=payload.details,
            parent=parent,
            provider=payload.provider,
            status=payload.status,
            opened_on=payload.opened_on,
        )
        body = _flatten([ProductView(product=product, restrictions=[])])[0]
        return 201, ProductOut.model_validate(body).model_dump(mode="json")

    return idempotent(
        request=request,
        response=response,
        user=user,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        create=create,
    )
