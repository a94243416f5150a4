"""Reads about clients. Every fetch checks who may see the client."""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from otklik.accounts.models import Role, User
from otklik.audit.spool import audit_read_record
from otklik.clients.models import (
    PRODUCT_KIND_LINE,
    Client,
    ClientSearchTerm,
    ContactPoint,
    Product,
    Restriction,
    Tariff,
)
from otklik.common.memo import memoized
from otklik.common.phones import phone_digits
from otklik.common.text import normalize


def clients_visible_q(user: User) -> Q:
    """Front-line staff may find any client who calls; specialists only their handoffs' clients."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.role == Role.SPECIALIST and not user.is_superuser:
        from otklik.handoffs.models import Handoff

        if user.department_id is None:
            return Q(pk__in=[])
        return Q(
            Exists(
                Handoff.objects.filter(
                    case__client=OuterRef("pk"), department_id=user.department_id
                )
            )
        )
    return Q()


def can_register_clients(*, user: User) -> bool:
    """Front-line staff register clients and their products; department specialists work
    only what is handed to them (the same rule in the workspace and the API)."""
    return user.is_active and (user.role != Role.SPECIALIST or user.is_superuser)


def client_get_for_user(*, user: User, client_id: int) -> Client:
    """Return the client if `user` may see them, else raise 404 (never reveal existence)."""
    client = (
        Client.objects.filter(clients_visible_q(user), pk=client_id)
        .select_related("personal_manager")
        .first()
    )
    if client is None:
        raise Http404("client not found")
    return client


def client_get_viewed(*, request, client_id: int, via: str) -> Client:
    """`client_get_for_user` for a page or fragment that shows the client to
    `request.user`: the read is audited (spooled, see `audit.spool`)."""
    client = client_get_for_user(user=request.user, client_id=client_id)
    audit_read_record(
        actor=request.user,
        action="client.view",
        via=via,
        client_id=client.pk,
        obj=client,
        request=request,
    )
    return client


def clients_get_for_user(*, user: User, client_ids: list[int]) -> dict[int, Client]:
    """The clients among `client_ids` that `user` may see, by id (one query, for intake);
    an id missing from the answer is missing or invisible, which callers must not tell
    apart."""
    found = Client.objects.filter(clients_visible_q(user), pk__in=set(client_ids)).order_by()
    return {client.pk: client for client in found}


def client_list_for_user(*, user: User) -> QuerySet[Client]:
    return Client.objects.filter(clients_visible_q(user)).select_related("personal_manager")


def _search_keys(query: str) -> list[str]:
    text = normalize(query)
    if not text:
        return []
    keys = [text]
    digits = phone_digits(text)
    if digits and len(digits) >= 4 and len(digits) >= len(text.replace(" ", "")) - 6:
        keys.append(digits)
        # A partly typed number with its trunk prefix ("8 916 48", "+7 916 48"): phone
        # keys are stored as 10 national digits, so also look for the rest.
        if len(digits) < 10 and (text.startswith("+7") or digits.startswith("89")):
            keys.append(digits[1:])
    compact = text.replace(" ", "")
    if compact != text:
        keys.append(compact)
    return list(dict.fromkeys(keys))


def client_search(*, user: User, query: str, limit: int = 20) -> list[Client]:
    """Find clients by name, phone, e-mail, contract/account or card number (prefix match).

    Each key is an index range scan over `ClientSearchTerm.term`, so the cost depends on
    the number of matches, not on the number of clients.
    """
    keys = _search_keys(query)
    if not keys or len(keys[0]) < 2:
        return []
    match = Q()
    for key in keys:
        match |= Q(term__gte=key, term__lt=key + "\uffff")
    client_ids: list[int] = []
    for cid in ClientSearchTerm.objects.filter(match).values_list("client_id", flat=True)[
        : limit * 5
    ]:
        if cid not in client_ids:
            client_ids.append(cid)
        if len(client_ids) >= limit:
            break
    if not client_ids:
        return []
    found = {
        c.pk: c
        for c in client_list_for_user(user=user)
        .filter(pk__in=client_ids)
        .prefetch_related(Prefetch("contacts", queryset=ContactPoint.objects.all()))
    }
    return [found[cid] for cid in client_ids if cid in found]


@dataclass
class ProductView:
    """A product with its active restrictions and the products held within it."""

    product: Product
    restrictions: list[Restriction]
    children: list["ProductView"] = field(default_factory=list)


def client_product_list(*, client: Client) -> list[Product]:
    """All of the client's products (closed ones too), each with `active_restrictions`.

    Two queries (products, restrictions), read once while a page is built (see
    common/memo.py): the card, the orders panel and the procedure suggestions share them.
    """

    def load() -> list[Product]:
        return list(
            Product.objects.filter(client=client).prefetch_related(
                Prefetch(
                    "restrictions",
                    queryset=Restriction.objects.filter(lifted_at__isnull=True),
                    to_attr="active_restrictions",
                )
            )
        )

    return memoized(client, "products", load)


def client_contact_list(*, client: Client) -> list[ContactPoint]:
    """The client's contact points, read once per page (card, panels, reachability)."""
    return memoized(client, "contacts", lambda: list(client.contacts.all()))


def client_products(*, client: Client) -> list[ProductView]:
    """Products as a tree (fund units under their ИИС), each with its active restrictions."""
    products = client_product_list(client=client)
    views = {p.pk: ProductView(product=p, restrictions=p.active_restrictions) for p in products}
    roots: list[ProductView] = []
    for product in products:
        view = views[product.pk]
        if product.parent_id and product.parent_id in views:
            views[product.parent_id].children.append(view)
        else:
            roots.append(view)
    return roots


def product_get_for_client(*, client: Client, product_id: int) -> Product | None:
    """One of `client`'s products (e.g. the ИИС a new fund-units product is held within)."""
    return Product.objects.filter(client=client, pk=product_id).first()


def client_business_lines(*, client: Client) -> set[str]:
    """The business lines a client is a customer of: those of the products they hold."""
    kinds = Product.objects.filter(client=client).values_list("kind", flat=True).distinct()
    return {PRODUCT_KIND_LINE[k] for k in kinds if k in PRODUCT_KIND_LINE}


def tariffs_offered(*, product: Product) -> list[Tariff]:
    """Tariffs a mobile tariff product may change to: on sale by its provider, not the current."""
    return list(
        Tariff.objects.filter(Q(provider="") | Q(provider=product.provider), is_active=True)
        .exclude(name=product.name)
        .order_by("monthly_fee", "name")
    )


def tariff_offered_get(*, product: Product, name: str) -> Tariff | None:
    """The offered tariff called `name`, or None (a typed or stale name is refused)."""
    return next((t for t in tariffs_offered(product=product) if t.name == name), None)
