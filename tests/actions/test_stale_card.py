"""Defect 8: after an action the card's products show the new figures without a reload."""

from django.urls import reverse

from otklik.actions.services import action_request
from otklik.clients.services import client_create, product_create
from tests.actions.conftest import phone_case
from tests.actions.test_services import _confirm


def test_products_refresh_after_disabling_internet(client, cast, catalogue):
    person = client_create(last_name="Зайцев", first_name="Андрей", phones=["+79501274833"])
    product_create(
        client=person,
        kind="telecom_tariff",
        name="Без абонентской платы",
        details={"msisdn": "9501274833", "balance": "14.60", "reserved": "300"},
    )
    internet = product_create(
        client=person,
        kind="telecom_service",
        name="Мобильный интернет (по факту)",
        details={"billing": "10 ₽ за каждые 2 МБ", "reserves_balance": True},
    )
    case = phone_case(cast.alice, person)
    client.force_login(cast.alice)
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    products_url = reverse("workspace:products", args=[person.pk])
    assert f'hx-get="{products_url}?case={case.pk}"' in page
    assert "products-changed from:body" in page and "300,00 ₽" in page

    run = action_request(
        actor=cast.alice,
        case=case,
        product=internet,
        action_code="disable_service",
        input={"service_product_id": internet.pk},
        channel="phone",
        idempotency_key="d1",
    )
    waiting = client.get(reverse("actions:run_status", args=[run.pk]))
    assert "HX-Trigger" not in waiting
    _confirm(run)
    done = client.get(reverse("actions:run_status", args=[run.pk]))
    assert done["HX-Trigger"] == "products-changed"  # the products fetch themselves again
    fragment = client.get(f"{products_url}?case={case.pk}").content.decode()
    assert "300,00 ₽" not in fragment and "0,00 ₽" in fragment


def test_products_of_a_client_one_cannot_see_is_404(client, cast, catalogue):
    person = client_create(last_name="Чужой", first_name="Клиент", phones=["+79501270000"])
    client.force_login(cast.sam)  # a department specialist with no handoff about this client
    assert client.get(reverse("workspace:products", args=[person.pk])).status_code == 404
