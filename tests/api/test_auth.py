"""Who may call the API: bearer tokens, the workspace session with CSRF, nobody else."""

import json
import secrets

import pytest
from django.core.management import call_command
from django.test import Client as DjangoClient
from django.utils import timezone

from otklik.accounts.models import ApiToken
from otklik.accounts.services import api_token_create
from otklik.cases.models import Case
from tests.api.conftest import ApiClient
from tests.factories import ClientFactory, make_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/clients", "/api/cases", "/api/topics", "/api/interactions", "/api/cases/1"]
)
def test_without_credentials_every_endpoint_answers_401_json(path):
    response = ApiClient(None).get(path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_anonymous_post_is_401_not_a_csrf_403(cast):
    response = ApiClient(None).post("/api/cases", {"subject": "x"})
    assert response.status_code == 401


def test_unknown_token_is_refused():
    assert ApiClient("otk_not-a-real-token").get("/api/cases").status_code == 401


def test_revoked_token_is_refused(cast):
    token, raw = api_token_create(user=cast.alice, name="integration")
    assert ApiClient(raw).get("/api/cases").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert ApiClient(raw).get("/api/cases").status_code == 401


def test_token_of_deactivated_user_is_refused(cast):
    _, raw = api_token_create(user=cast.alice, name="integration")
    cast.alice.is_active = False
    cast.alice.save(update_fields=["is_active"])
    assert ApiClient(raw).get("/api/cases").status_code == 401


def test_token_acts_as_its_owner(cast, api):
    case = make_case(actor=cast.alice)
    assert api(cast.alice).get(f"/api/cases/{case.pk}").status_code == 200
    assert api(cast.bob).get(f"/api/cases/{case.pk}").status_code == 404


def test_workspace_session_reads_and_writes_with_csrf(cast):
    client = ClientFactory()
    http = DjangoClient(enforce_csrf_checks=True)
    http.force_login(cast.alice)
    assert http.get("/api/cases").status_code == 200

    body = json.dumps({"client_id": client.pk, "subject": "Вопрос по карте", "channel": "chat"})
    refused = http.post("/api/cases", body, content_type="application/json")
    assert refused.status_code == 403
    assert not Case.objects.exists()

    csrf = secrets.token_hex(16)  # a 32-character secret, as the workspace page would set
    http.cookies["csrftoken"] = csrf
    accepted = http.post(
        "/api/cases", body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert accepted.status_code == 201
    assert Case.objects.get().created_by == cast.alice


def test_openapi_schema_and_docs_are_public():
    http = DjangoClient()
    schema = http.get("/api/openapi.json")
    assert schema.status_code == 200
    assert "/api/cases/{case_id}/transition" in schema.json()["paths"]
    assert http.get("/api/docs").status_code == 200


def test_create_api_token_command_prints_a_working_token(cast, capsys):
    call_command("create_api_token", "alice", "--name", "crm")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("otk_")
    assert ApiToken.objects.get(user=cast.alice).name == "crm"
    assert ApiClient(raw).get("/api/cases").status_code == 200


def test_create_api_token_command_refuses_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody")
