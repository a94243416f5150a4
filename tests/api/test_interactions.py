"""Interactions over the API: continue a case or open one, and list by case or client."""

import pytest

from otklik.audit.models import AuditRecord
from otklik.cases.models import Case, Interaction
from otklik.cases.services import case_transition
from tests.api.conftest import fields
from tests.factories import ClientFactory, make_case

pytestmark = pytest.mark.django_db


def test_call_opens_a_new_case(cast, api):
    client = ClientFactory()
    response = api(cast.alice).post(
        "/api/interactions",
        {
            "client_id": client.pk,
            "channel": "phone",
            "subject": "Списали комиссию",
            "summary": "Клиент просит вернуть комиссию",
            "external_ref": "call-1",
        },
    )
    assert response.status_code == 201, response.content
    interaction = Interaction.objects.get(pk=response.json()["id"])
    assert interaction.case.subject == "Списали комиссию"
    assert response.json()["case_id"] == interaction.case_id
    assert response.json()["operator"]["id"] == cast.alice.pk


def test_second_call_continues_a_resolved_case_and_reopens_it(cast, api):
    case = make_case(actor=cast.alice)
    case_transition(actor=cast.alice, case=case, to_status="resolved")
    response = api(cast.alice).post(
        "/api/interactions",
        {
            "client_id": case.client_id,
            "channel": "chat",
            "case_id": case.pk,
        },
    )
    assert response.status_code == 201, response.content
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"channel": "telegraph"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"client_id": 987654}, "client_id"),
        ({"case_id": 987654}, "case_id"),
        ({"priority": 9}, "priority"),
    ],
)
def test_bad_interaction_is_422_naming_the_field_and_writes_nothing(cast, api, overrides, field):
    client = ClientFactory()
    body = {"client_id": client.pk, "channel": "phone", "subject": "Вопрос", **overrides}
    response = api(cast.alice).post("/api/interactions", body)
    assert response.status_code == 422, response.content
    assert field in fields(response)
    assert not Interaction.objects.exists()
    assert not Case.objects.exists()


def test_continuing_another_clients_case_is_refused(cast, api):
    case = make_case(actor=cast.alice)
    other = ClientFactory()
    response = api(cast.alice).post(
        "/api/interactions",
        {
            "client_id": other.pk,
            "channel": "phone",
            "case_id": case.pk,
        },
    )
    assert response.status_code == 422
    assert fields(response) == {"case_id"}
    assert not Interaction.objects.exists()


def test_continuing_a_case_of_another_team_is_refused_without_revealing_it(cast, api):
    case = make_case(actor=cast.alice)
    response = api(cast.bob).post(
        "/api/interactions",
        {
            "client_id": case.client_id,
            "channel": "phone",
            "case_id": case.pk,
        },
    )
    assert response.status_code == 422
    assert fields(response) == {"case_id"}
    assert not Interaction.objects.exists()


def test_list_by_case_by_client_and_own(cast, api):
    client = ClientFactory()
    alice, olga = api(cast.alice), api(cast.olga)
    first = alice.post(
        "/api/interactions", {"client_id": client.pk, "channel": "phone", "subject": "Вопрос"}
    ).json()
    second = olga.post(
        "/api/interactions",
        {"client_id": client.pk, "channel": "chat", "case_id": first["case_id"]},
    ).json()

    by_case = alice.get("/api/interactions", {"case_id": first["case_id"]}).json()["items"]
    assert [i["id"] for i in by_case] == [second["id"], first["id"]]
    by_client = alice.get("/api/interactions", {"client_id": client.pk}).json()["items"]
    assert {i["id"] for i in by_client} == {first["id"], second["id"]}
    own = alice.get("/api/interactions").json()["items"]
    assert [i["id"] for i in own] == [first["id"]]
    assert AuditRecord.objects.filter(action="interaction.list", client=client).count() == 3


def test_list_for_a_case_one_cannot_see_is_404(cast, api):
    case = make_case(actor=cast.alice)
    assert api(cast.bob).get("/api/interactions", {"case_id": case.pk}).status_code == 404
