"""Clients and products over the API: who sees whom, what is audited, what is refused."""

import pytest
from django.utils import timezone

from otklik.audit.models import AuditRecord
from otklik.clients.models import Client, ContactPoint, Product
from otklik.clients.services import contact_point_set_reachability, restriction_place
from otklik.common.luhn import luhn_complete
from otklik.handoffs.models import Handoff
from tests.api.conftest import fields
from tests.factories import ClientFactory, make_case, make_product

pytestmark = pytest.mark.django_db

CARD = {"payment_system": "Мир", "level": "Classic", "expires": "12/29"}


def test_client_card_shows_contacts_reachability_and_personal_manager(cast, api):
    client = ClientFactory(personal_manager=cast.pavel)
    contact = client.contacts.get()
    contact_point_set_reachability(
        contact=contact, reachability="limited", note="за границей: SMS не доходят"
    )

    response = api(cast.alice).get(f"/api/clients/{client.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["personal_manager"] == {"id": cast.pavel.pk, "name": cast.pavel.display_name}
    assert body["contacts"] == [
        {
            "id": contact.pk,
            "kind": "phone",
            "value": contact.value,
            "is_primary": True,
            "reachability": "limited",
            "reachability_note": "за границей: SMS не доходят",
        }
    ]
    record = AuditRecord.objects.get(action="client.view")
    assert (record.actor, record.client_id, record.via) == (cast.alice, client.pk, "api")


def test_specialist_sees_only_clients_of_handoffs_to_their_department(cast, api):
    handed, other = ClientFactory(), ClientFactory()
    case = make_case(actor=cast.alice, client=handed)
    Handoff.objects.create(
        case=case, department=cast.security, question="?", created_at=timezone.now()
    )

    assert api(cast.sam).get(f"/api/clients/{handed.pk}").status_code == 200
    assert api(cast.sam).get(f"/api/clients/{other.pk}").status_code == 404
    assert api(cast.tom).get(f"/api/clients/{handed.pk}").status_code == 404
    assert api(cast.sam).get(f"/api/clients/{other.pk}/products").status_code == 404
    listed = api(cast.sam).get("/api/clients").json()["items"]
    assert [c["id"] for c in listed] == [handed.pk]


def test_search_by_phone_finds_the_client_and_audits_each_result(cast, api):
    wanted = ClientFactory(phone="+7 916 555-12-34")
    ClientFactory(phone="+7 903 000-00-00")

    response = api(cast.alice).post("/api/clients/search", {"q": "8 (916) 555-12-34"})

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["items"]] == [wanted.pk]
    audited = AuditRecord.objects.filter(action="client.search")
    assert [(r.client_id, r.via) for r in audited] == [(wanted.pk, "api")]


def test_client_list_pages_without_count(cast, api):
    ids = [ClientFactory().pk for _ in range(3)]
    first = api(cast.alice).get("/api/clients", {"page_size": 2}).json()
    second = api(cast.alice).get("/api/clients", {"page_size": 2, "page": 2}).json()
    assert [c["id"] for c in first["items"]] == ids[:2] and first["has_next"] is True
    assert [c["id"] for c in second["items"]] == ids[2:] and second["has_next"] is False
    assert AuditRecord.objects.filter(action="client.list").count() == 3


def test_products_have_typed_details_restrictions_and_parent(cast, api):
    client = ClientFactory()
    card = make_product(client, "card")
    restriction_place(product=card, kind="fraud_check", reason="подозрительный платёж")
    iis = make_product(client, "iis", name="ИИС", details={"iis_type": 2})
    units = make_product(
        client,
        "fund_units",
        name="ОПИФ Облигации",
        parent=iis,
        details={"fund_type": "opif", "units": "12.5"},
    )

    response = api(cast.alice).get(f"/api/clients/{client.pk}/products")

    assert response.status_code == 200
    by_id = {p["id"]: p for p in response.json()}
    pan = card.details["pan"]
    assert by_id[card.pk]["details"]["pan"] == f"{pan[:4]} {pan[4:6]}•• •••• {pan[-4:]}"
    assert [r["kind"] for r in by_id[card.pk]["active_restrictions"]] == ["fraud_check"]
    assert by_id[units.pk]["parent_id"] == iis.pk
    assert by_id[units.pk]["details"]["fund_type"] == "opif"
    assert by_id[units.pk]["details"]["units"] == "12.5"
    assert AuditRecord.objects.filter(action="client.products.view", client=client).exists()


def test_create_client_with_phone_makes_it_searchable(cast, api):
    response = api(cast.alice).post(
        "/api/clients",
        {
            "last_name": "Соколова",
            "first_name": "Мария",
            "patronymic": "Ивановна",
            "phones": ["8 926 111-22-33"],
            "emails": ["m.sokolova@example.ru"],
            "personal_manager_id": cast.pavel.pk,
        },
    )
    assert response.status_code == 201, response.content
    client = Client.objects.get(pk=response.json()["id"])
    assert client.personal_manager == cast.pavel
    found = api(cast.alice).post("/api/clients/search", {"q": "9261112233"}).json()["items"]
    assert [c["id"] for c in found] == [client.pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "Мария"}, "last_name"),
        ({"last_name": "   ", "first_name": "Мария"}, "last_name"),
        ({"last_name": "Соколова", "first_name": "Мария", "phones": ["12345"]}, "phones"),
        ({"last_name": "Соколова", "first_name": "Мария", "segment": "vip"}, "segment"),
        (
            {"last_name": "Соколова", "first_name": "Мария", "birth_date": "31.12.1990"},
            "birth_date",
        ),
        (
            {"last_name": "Соколова", "first_name": "Мария", "personal_manager_id": 999999},
            "personal_manager_id",
        ),
        ({"last_name": "Соколова", "first_name": "Мария", "nickname": "Маша"}, "nickname"),
    ],
)
def test_bad_client_is_refused_naming_the_field_and_nothing_is_written(cast, api, body, field):
    response = api(cast.alice).post("/api/clients", body)
    assert response.status_code == 422, response.content
    assert field in fields(response)
    assert not Client.objects.exists()
    assert not ContactPoint.objects.exists()


def test_card_failing_luhn_is_refused_as_details_pan(cast, api):
    client = ClientFactory()
    bad_pan = luhn_complete("220070000000000")[:-1] + "0"
    if bad_pan == luhn_complete("220070000000000"):
        bad_pan = bad_pan[:-1] + "1"

    response = api(cast.alice).post(
        f"/api/clients/{client.pk}/products",
        {
            "kind": "card",
            "name": "Карта Мир",
            "details": {"pan": bad_pan, **CARD},
        },
    )

    assert response.status_code == 422
    assert fields(response) == {"details.pan"}
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "details", "pan"]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "card", "name": "Карта", "details": CARD}, "details.pan"),
        ({"kind": "iis", "name": "ИИС", "details": {"iis_type": 4}}, "details.iis_type"),
        (
            {"kind": "loan", "name": "Кредит", "details": {"principal": "abc", "outstanding": 1}},
            "details.principal",
        ),
        ({"kind": "spaceship", "name": "X"}, "kind"),
        ({"kind": "brokerage", "name": "Счёт", "details": {"colour": "red"}}, "details.colour"),
        ({"kind": "brokerage", "name": ""}, "name"),
        (
            {
                "kind": "fund_units",
                "name": "ОПИФ",
                "parent_id": 424242,
                "details": {"fund_type": "opif", "units": 1},
            },
            "parent_id",
        ),
    ],
)
def test_bad_product_is_refused_naming_the_field(cast, api, body, field):
    client = ClientFactory()
    response = api(cast.alice).post(f"/api/clients/{client.pk}/products", body)
    assert response.status_code == 422, response.content
    assert field in fields(response)
    assert not Product.objects.exists()


def test_product_for_a_client_one_cannot_see_is_404(cast, api):
    client = ClientFactory()
    response = api(cast.sam).post(
        f"/api/clients/{client.pk}/products", {"kind": "brokerage", "name": "Счёт"}
    )
    assert response.status_code == 404
    assert not Product.objects.exists()


def test_valid_card_is_created_with_normalised_pan(cast, api):
    client = ClientFactory()
    pan = luhn_complete("220070000000123")
    response = api(cast.alice).post(
        f"/api/clients/{client.pk}/products",
        {
            "kind": "card",
            "name": "Карта Мир",
            "details": {"pan": f"{pan[:4]} {pan[4:8]} {pan[8:12]} {pan[12:]}", **CARD},
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["details"]["pan"] == f"{pan[:4]} {pan[4:6]}•• •••• {pan[-4:]}"
    assert Product.objects.get().details["pan"] == pan
