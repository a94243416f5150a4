"""Every write endpoint × every role's token: the API applies the workspace's role rules.

The specialist here can *see* the client and the case (it was handed to his department),
so what refuses him is the role rule, not visibility: specialists answer through the
handoff; they do not register clients or products, open cases or work the case itself.
"""

import pytest
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.cases.models import Case, Message
from otklik.clients.models import Client, Product
from otklik.handoffs.models import Handoff
from tests.factories import ClientFactory, UserFactory, make_case

pytestmark = pytest.mark.django_db

FRONT_LINE = ("alice", "olga", "sue", "pavel", "root")
ROLES = (*FRONT_LINE, "sam")


def _setup(cast):
    client = ClientFactory()
    client.personal_manager = cast.pavel
    client.save(update_fields=["personal_manager"])
    case = make_case(actor=cast.alice, client=client)
    Handoff.objects.create(
        case=case,
        department=cast.security,
        question="Проверьте операцию",
        created_at=timezone.now(),
    )
    root = UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    users = {name: getattr(cast, name) for name in ("alice", "olga", "sue", "pavel", "sam")}
    return client, case, {**users, "root": root}


def _intake(client) -> dict:
    return {"client_id": client.pk, "subject": "Не проходит оплата", "channel": "phone"}


#: endpoint → (method, path, body, status for front-line roles, status for the specialist)
ENDPOINTS = {
    "create client": (
        "post",
        "/api/clients",
        lambda c, k: {"last_name": "Новиков", "first_name": "Пётр", "phones": ["+79161112233"]},
        201,
        403,
    ),
    "add product": (
        "post",
        "/api/clients/{client}/products",
        lambda c, k: {"kind": "brokerage", "name": "Брокерский счёт"},
        201,
        403,
    ),
    "open case": ("post", "/api/cases", lambda c, k: _intake(c), 201, 403),
    "open cases in batch": (
        "post",
        "/api/cases/batch",
        lambda c, k: {"cases": [_intake(c)]},
        201,
        403,
    ),
    "edit case": ("patch", "/api/cases/{case}", lambda c, k: {"priority": 3}, 200, 403),
    "move case": (
        "post",
        "/api/cases/{case}/transition",
        lambda c, k: {"status": "in_progress"},
        200,
        403,
    ),
    "reply to client": (
        "post",
        "/api/cases/{case}/messages",
        lambda c, k: {"body": "Ответ клиенту", "visibility": "public"},
        201,
        403,
    ),
    "internal note": (
        "post",
        "/api/cases/{case}/messages",
        lambda c, k: {"body": "Заметка", "visibility": "internal"},
        201,
        201,  # specialists may leave notes on a case handed to them
    ),
    "register contact, new case": (
        "post",
        "/api/interactions",
        lambda c, k: {"client_id": c.pk, "channel": "phone", "subject": "Новый звонок"},
        201,
        403,
    ),
    "register contact on the case": (
        "post",
        "/api/interactions",
        lambda c, k: {"client_id": c.pk, "channel": "phone", "case_id": k.pk},
        201,
        403,
    ),
}


def _counts() -> tuple:
    return (
        Client.objects.count(),
        Product.objects.count(),
        Case.objects.count(),
        Message.objects.count(),
    )


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_write_endpoint_answers_each_role_as_the_workspace_would(cast, api, role, endpoint):
    client, case, users = _setup(cast)
    method, path, body, front_line, specialist = ENDPOINTS[endpoint]
    url = path.format(client=client.pk, case=case.pk)
    before = _counts()
    response = getattr(api(users[role]), method)(url, body(client, case))
    expected = front_line if role in FRONT_LINE else specialist
    assert response.status_code == expected, response.content
    if expected == 403:
        assert isinstance(response.json()["detail"], str)
        assert _counts() == before  # nothing written


@pytest.mark.parametrize("owner", ["sam", "bob"])
def test_case_owner_over_the_api_is_one_the_workspace_would_offer(cast, api, owner):
    """A specialist or someone of another team cannot be made the owner of a team A case."""
    _client, case, _users = _setup(cast)
    response = api(cast.alice).patch(f"/api/cases/{case.pk}", {"owner_id": getattr(cast, owner).pk})
    assert response.status_code == 422
    assert {item["field"] for item in response.json()["detail"]} == {"owner_id"}
    case.refresh_from_db()
    assert case.owner_id == cast.alice.pk


def test_specialist_gets_no_intake_form_in_the_workspace(cast, client):
    case_client, _case, _users = _setup(cast)
    client.force_login(cast.sam)
    card = client.get(f"/clients/{case_client.pk}/")
    assert card.status_code == 200 and b'id="intake"' not in card.content
    response = client.post(
        f"/clients/{case_client.pk}/intake/new", {"channel": "phone", "subject": "Вопрос"}
    )
    assert response.status_code == 403
