"""Card and account numbers: masked everywhere by default, in full only with a right and a
reason, and every full view in the access log."""

import logging

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from otklik.accounts.services import api_token_create
from otklik.audit.models import AuditRecord
from otklik.common.masking import mask_pan
from tests.api.conftest import ApiClient
from tests.factories import ClientFactory, make_product

pytestmark = pytest.mark.django_db

ACCOUNT = "40817810938000447182"
REASON = "Заявление на чарджбэк по платежу 12.11"


@pytest.fixture
def api():
    def make(user):
        _, raw = api_token_create(user=user, name="test")
        return ApiClient(raw)

    return make


@pytest.fixture
def holder(db):
    client = ClientFactory(last_name="Картова")
    card = make_product(client, "card")
    make_product(client, "bank_account", name="Текущий счёт", number=ACCOUNT)
    return client, card.details["pan"]


def test_client_card_shows_numbers_masked(client, cast, holder):
    person, pan = holder
    client.force_login(cast.alice)
    html = client.get(reverse("workspace:client_card", args=[person.pk])).content.decode()
    assert pan not in html and ACCOUNT not in html
    assert mask_pan(pan) in html and "•••• 7182" in html
    assert 'class="reveal"' not in html and 'name="reason"' not in html


def test_api_products_are_masked_for_an_operator(cast, api, holder):
    person, pan = holder
    response = api(cast.alice).get(f"/api/clients/{person.pk}/products")
    body = response.content.decode()
    assert response.status_code == 200
    assert pan not in body and ACCOUNT not in body
    numbers = {p["name"]: p for p in response.json()}
    assert numbers["Карта Мир"]["details"]["pan"] == mask_pan(pan)
    assert numbers["Текущий счёт"]["number"] == "•••• 7182"


@pytest.mark.parametrize("who", ["alice", "olga", "bob", "pavel"])
def test_staff_without_the_right_are_refused_in_full(client, cast, api, holder, who):
    person, pan = holder
    user = getattr(cast, who)
    response = api(user).post(f"/api/clients/{person.pk}/identifiers/reveal", {"reason": REASON})
    assert response.status_code == 403
    assert "руководители" in response.json()["detail"]  # a clear refusal, in Russian
    client.force_login(user)
    page = client.post(
        reverse("workspace:identifiers_reveal", args=[person.pk]), {"reason": REASON}
    )
    assert page.status_code == 403 and pan not in page.content.decode()
    assert not AuditRecord.objects.filter(action="client.identifiers.reveal").exists()


def test_supervisor_sees_numbers_in_full_with_a_reason_and_it_is_audited(cast, api, holder):
    person, pan = holder
    response = api(cast.sue).post(
        f"/api/clients/{person.pk}/identifiers/reveal", {"reason": REASON}
    )
    assert response.status_code == 200
    items = {i["name"]: i for i in response.json()["items"]}
    assert items["Карта Мир"]["pan"] == pan
    assert items["Текущий счёт"]["number"] == ACCOUNT
    record = AuditRecord.objects.get(action="client.identifiers.reveal")
    assert (record.actor, record.client_id, record.via) == (cast.sue, person.pk, "api")
    assert record.detail == REASON


def test_a_reason_is_required(cast, api, holder):
    person, _pan = holder
    response = api(cast.sue).post(
        f"/api/clients/{person.pk}/identifiers/reveal", {"reason": "надо"}
    )
    assert response.status_code == 422
    assert {i["field"] for i in response.json()["detail"]} == {"reason"}
    assert not AuditRecord.objects.filter(action="client.identifiers.reveal").exists()


def test_the_permission_opens_full_numbers_to_another_role(cast, api, holder):
    person, pan = holder
    cast.sam.user_permissions.add(Permission.objects.get(codename="view_full_identifiers"))
    # Sam still sees only the clients of his department's handoffs: this one is not.
    assert (
        api(cast.sam)
        .post(f"/api/clients/{person.pk}/identifiers/reveal", {"reason": REASON})
        .status_code
        == 404
    )
    cast.alice.user_permissions.add(Permission.objects.get(codename="view_full_identifiers"))
    response = api(cast.alice).post(
        f"/api/clients/{person.pk}/identifiers/reveal", {"reason": REASON}
    )
    assert response.status_code == 200 and pan in response.content.decode()


def test_show_in_full_on_the_card_asks_for_a_reason(client, cast, holder):
    person, pan = holder
    client.force_login(cast.sue)
    card = client.get(reverse("workspace:client_card", args=[person.pk])).content.decode()
    assert 'class="reveal"' in card and 'name="reason"' in card and pan not in card
    url = reverse("workspace:identifiers_reveal", args=[person.pk])
    refused = client.post(url, {"reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and pan not in refused.content.decode()
    shown = client.post(url, {"reason": REASON}, HTTP_HX_REQUEST="true")
    html = shown.content.decode()
    assert shown.status_code == 200 and "<html" not in html
    assert pan in html and ACCOUNT in html
    record = AuditRecord.objects.get(action="client.identifiers.reveal")
    assert (record.actor, record.client_id, record.via, record.detail) == (
        cast.sue,
        person.pk,
        "workspace",
        REASON,
    )


def test_a_reason_with_a_card_number_is_stored_redacted(cast, api, holder):
    person, pan = holder
    api(cast.sue).post(
        f"/api/clients/{person.pk}/identifiers/reveal",
        {"reason": f"Сверка карты {pan} по заявлению"},
    )
    detail = AuditRecord.objects.get(action="client.identifiers.reveal").detail
    assert pan not in detail and f"•••• {pan[-4:]}" in detail


# --- search without numbers in addresses or logs -------------------------------------------


def test_search_by_card_number_works_by_post_and_logs_no_number(client, cast, holder, caplog):
    _person, pan = holder
    client.force_login(cast.alice)
    written = f"{pan[:4]} {pan[4:8]} {pan[8:12]} {pan[12:]}"
    with caplog.at_level(logging.DEBUG):
        found = client.post(reverse("workspace:client_search"), {"q": written})
        live = client.post(
            reverse("workspace:client_search"),
            {"q": pan},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="search-results",
        )
        refused = client.get(reverse("workspace:client_search"), {"q": pan})
    assert "Картова" in found.content.decode() and "Картова" in live.content.decode()
    assert refused.status_code == 303
    assert refused["Location"] == reverse("workspace:client_search")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert pan not in logged and written not in logged
    details = list(
        AuditRecord.objects.filter(action="client.search").values_list("detail", flat=True)
    )
    assert len(details) == 2
    assert all(pan not in d and written not in d and pan[-4:] in d for d in details)


def test_search_form_posts_with_csrf(client, cast):
    client.force_login(cast.alice)
    html = client.get(reverse("workspace:client_search")).content.decode()
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html and "hx-post=" in html
    assert "hx-get=" not in html.split('role="search"')[1].split("</form>")[0]


def test_api_search_by_card_number_is_a_post(cast, api, holder, caplog):
    person, pan = holder
    with caplog.at_level(logging.DEBUG):
        found = api(cast.alice).post("/api/clients/search", {"q": pan})
        refused = api(cast.alice).get("/api/clients", {"q": pan})
    assert [c["id"] for c in found.json()["items"]] == [person.pk]
    assert refused.status_code == 422
    assert {i["field"] for i in refused.json()["detail"]} == {"q"}
    assert pan not in "\n".join(r.getMessage() for r in caplog.records)
