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


def test_tariff_change_offers_the_providers_tariffs_and_refuses_free_text(client, cast, catalogue):
    from otklik.common.errors import ServiceError

    person = client_create(last_name="Зайцев", first_name="Андрей", phones=["+79501274834"])
    tariff = product_create(
        client=person,
        kind="telecom_tariff",
        name="Без абонентской платы",
        provider="Оператор связи «Волна»",
        details={"msisdn": "9501274834", "balance": "0", "internet_billing": "10 ₽ за 2 МБ"},
    )
    case = phone_case(cast.alice, person)
    client.force_login(cast.alice)
    form = client.get(
        reverse("actions:action_form", args=[tariff.pk, "change_tariff"]), {"case": case.pk}
    ).content.decode()
    assert '<select name="tariff_name"' in form
    assert '<option value="Всё включено M">Всё включено M — 450 ₽ в месяц</option>' in form
    assert 'value="Без абонентской платы"' not in form  # not the current one
    try:
        action_request(
            actor=cast.alice,
            case=case,
            product=tariff,
            action_code="change_tariff",
            input={"tariff_name": "Самый дешёвый"},
            channel="phone",
            idempotency_key="free-text",
        )
    except ServiceError as exc:
        assert "tariff_name" in exc.message_dict
    else:
        raise AssertionError("a tariff not on sale was accepted")
    run = action_request(
        actor=cast.alice,
        case=case,
        product=tariff,
        action_code="change_tariff",
        input={"tariff_name": "Всё включено M"},
        channel="phone",
        idempotency_key="t1",
    )
    _confirm(run)  # the back office reports no prices: the catalogue's apply
    fragment = client.get(
        reverse("workspace:products", args=[person.pk]), {"case": case.pk}
    ).content.decode()
    assert "Всё включено M" in fragment and "20 ГБ в месяц" in fragment
    assert "10 ₽ за 2 МБ" not in fragment
