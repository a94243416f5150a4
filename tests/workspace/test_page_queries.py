"""The case page and the client card cost a fixed, small number of queries, and each view
of them still leaves its audit record (through the spool, see audit/spool.py)."""

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.audit.models import AuditRecord
from otklik.audit.spool import spool_dir, spool_flush
from otklik.cases.models import MessageVisibility
from otklik.cases.services import interaction_register, message_add
from otklik.clients.models import ChannelKind, ContactPoint, RestrictionKind
from otklik.clients.services import product_create, restriction_place
from otklik.handoffs.services import handoff_send
from otklik.orders import services as orders
from otklik.orders.catalogue import order_templates_ensure
from tests.factories import ClientFactory, make_case, make_product

# What the pages cost today with every panel filled in (session, user and the user's team
# included; the read audit is a spool append, not a query). Products, contacts, handoffs
# and orders add rows, never queries. One of them is the reply forms' "seen" marker (the
# case's newest event id, presence app: no blind replies); presence itself costs none.
CASE_PAGE_MAX_QUERIES = 29
# The card also asks the permission tables once whether the viewer may reveal full
# identifiers (two queries: user and group permissions), and the personal-service panel
# reads the client's service profile (one query when there is none).
CLIENT_CARD_MAX_QUERIES = 13


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def busy_case(cast, *, products: int):
    """A case of a client with `products` products (an ИИС and an account; from the
    third on, fund units in the ИИС, then cards, one restricted), two contact points,
    a reply and a note, two contacts, two handoffs and an order: every panel of the case
    page has something to show."""
    order_templates_ensure()
    client = ClientFactory()
    ContactPoint.objects.create(client=client, kind=ChannelKind.EMAIL, value="k@example.com")
    iis = product_create(
        client=client,
        kind="iis",
        name="ИИС (тип 1)",
        number="ИИС-2019/044718",
        opened_on=date(2019, 3, 14),
        details={"iis_type": 1},
    )
    product_create(
        client=client,
        kind="bank_account",
        name="Счёт для выплат",
        number="40817810938000447182",
        provider="Банк «Меридиан»",
        details={"currency": "RUB"},
    )
    for index in range(products - 2):
        if index == 0:
            product_create(
                client=client,
                kind="fund_units",
                parent=iis,
                name="ОПИФ «Глобальные акции»",
                number="ЛС-7781-044718",
                details={"fund_type": "opif", "units": "12.5", "frozen": True},
            )
            continue
        card = make_product(client, "card", number=f"К-{index}")
        if index == 1:
            restriction_place(product=card, kind=RestrictionKind.values[0], reason="проверка")
    case = make_case(actor=cast.alice, client=client, subject="Закрыть ИИС")
    now = timezone.now()
    for minutes, visibility in ((1, MessageVisibility.PUBLIC), (2, MessageVisibility.INTERNAL)):
        message_add(
            actor=cast.alice,
            case=case,
            body="Клиент просит закрыть ИИС",
            visibility=visibility,
            now=now + timedelta(minutes=minutes),
        )
    for channel in (ChannelKind.PHONE, ChannelKind.CHAT):
        interaction_register(actor=cast.alice, client=client, channel=channel, case=case)
    for department in (cast.security, cast.treasury):
        handoff_send(actor=cast.alice, case=case, department=department, question="Проверьте")
    orders.order_draft(actor=cast.alice, case=case, template_code="iis_close_frozen")
    return case


def _count_queries(django_assert_max_num_queries, http, url: str, limit: int) -> int:
    with django_assert_max_num_queries(limit) as captured:
        response = http.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", ["case", "card"])
def test_page_queries_do_not_grow_with_products(page, client, cast, django_assert_max_num_queries):
    client.force_login(cast.alice)
    counts = []
    for products in (2, 10):
        case = busy_case(cast, products=products)
        assert case.client.products.count() == products
        if page == "case":
            url, limit = reverse("workspace:case_detail", args=[case.pk]), CASE_PAGE_MAX_QUERIES
        else:
            url = reverse("workspace:client_card", args=[case.client_id])
            limit = CLIENT_CARD_MAX_QUERIES
        client.get(url)  # warm per-process caches (topics, search index) like a live server
        counts.append(_count_queries(django_assert_max_num_queries, client, url, limit))
    assert counts[0] == counts[1]


def test_case_page_shows_every_panel_of_the_busy_case(client, cast):
    """The query budget is met with the panels filled, not by leaving them out."""
    case = busy_case(cast, products=4)
    client.force_login(cast.alice)
    html = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    for text in ("ОПИФ «Глобальные акции»", "К-1", "k@example.com", "Проверьте"):
        assert text in html
    assert cast.security.name in html and cast.treasury.name in html
    assert "ИИС-2019/044718" in html


@pytest.mark.parametrize("page", ["case", "card"])
def test_each_view_is_spooled_before_the_response_and_flushed_to_the_audit_log(page, client, cast):
    case = busy_case(cast, products=2)
    client.force_login(cast.alice)
    if page == "case":
        url, action, obj_type, obj_id = (
            reverse("workspace:case_detail", args=[case.pk]),
            "case.view",
            "case",
            str(case.pk),
        )
    else:
        url, action, obj_type, obj_id = (
            reverse("workspace:client_card", args=[case.client_id]),
            "client.view",
            "client",
            str(case.client_id),
        )
    before = timezone.now()
    for _ in range(3):
        assert client.get(url).status_code == 200
    after = timezone.now()

    # Durable before any flush: three lines in the spool, none in the table yet.
    lines = [
        json.loads(line)
        for path in spool_dir().glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert [entry["action"] for entry in lines] == [action] * 3
    assert not AuditRecord.objects.filter(action=action).exists()

    assert spool_flush() == 3
    records = list(AuditRecord.objects.filter(action=action))
    assert len(records) == 3
    for record in records:
        assert (record.actor, record.client_id, record.via) == (
            cast.alice,
            case.client_id,
            "workspace",
        )
        assert (record.object_type, record.object_id) == (obj_type, obj_id)
        assert before <= record.created_at <= after  # the time of the view, not the flush
    assert spool_flush() == 0  # nothing twice


def test_case_page_reads_products_once_and_checks_visibility_once(
    client, cast, django_assert_max_num_queries
):
    """The orders panel, the suggestions and the client panel used to read the products
    five times between them, and the handoff panel re-checked visibility twice."""
    case = busy_case(cast, products=6)
    client.force_login(cast.alice)
    url = reverse("workspace:case_detail", args=[case.pk])
    client.get(url)  # warm per-process caches
    with django_assert_max_num_queries(CASE_PAGE_MAX_QUERIES) as captured:
        assert client.get(url).status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum('FROM "clients_product"' in s for s in sql) == 1
    assert sum('FROM "clients_contactpoint"' in s for s in sql) == 1
    assert sum(s.startswith('SELECT 1 AS "a" FROM "cases_case"') for s in sql) == 0
    assert sum('FROM "handoffs_handoff"' in s for s in sql) == 1
