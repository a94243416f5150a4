"""`generate_load` writes realistic synthetic data that the real selectors can use."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from otklik.accounts.models import Role, User
from otklik.cases.models import OPEN_STATUSES, Case, CaseEvent
from otklik.cases.selectors import QueueFilters, case_queue, page_of
from otklik.clients.models import Client, ClientSearchTerm, ContactPoint, Product
from otklik.clients.product_details import validate_details
from otklik.clients.selectors import client_search
from otklik.clients.services import client_search_terms
from otklik.common.luhn import luhn_valid


def generate(clients: int, cases: int, seed: int = 1) -> str:
    out = StringIO()
    call_command(
        "generate_load", clients=clients, cases=cases, seed=seed, batch_size=500, stdout=out
    )
    return out.getvalue()


@pytest.mark.django_db
def test_generate_load_writes_searchable_clients_and_a_plausible_queue():
    output = generate(200, 2000)

    assert "rows/s" in output
    assert Client.objects.count() == 200
    assert Case.objects.count() == 2000 and CaseEvent.objects.count() == 2000
    assert ContactPoint.objects.filter(kind="phone").count() == 200
    open_cases = Case.objects.filter(is_open=True)
    assert 0.02 < open_cases.count() / 2000 < 0.2
    assert set(open_cases.values_list("status", flat=True)) <= set(OPEN_STATUSES)
    assert not Case.objects.filter(is_open=False, resolved_at__isnull=True).exists()
    assert Case.objects.values("team").annotate(n=Count("id")).count() == 5

    # Search keys are exactly what the service would compute for the same client.
    for client in Client.objects.order_by("?")[:20]:
        stored = set(ClientSearchTerm.objects.filter(client=client).values_list("term", flat=True))
        assert stored == client_search_terms(client)
    for product in Product.objects.all():
        assert validate_details(product.kind, product.details) == product.details
        if product.kind == "card":
            assert luhn_valid(product.details["pan"])

    operator = User.objects.create(username="probe", role=Role.OPERATOR)
    client = Client.objects.order_by("pk")[50]
    phone = client.contacts.get(kind="phone").value
    assert client in client_search(user=operator, query=f"8{phone[2:]}")
    assert client in client_search(user=operator, query=f"8 {phone[2:5]} {phone[5:8]}")
    assert client in client_search(user=operator, query=f"{client.last_name} {client.first_name}")

    operator.team = Case.objects.filter(is_open=True).first().team
    operator.save()
    rows, _ = page_of(case_queue(user=operator, filters=QueueFilters()), page=1, size=50)
    assert rows and all(case.is_open and case.team_id == operator.team_id for case in rows)


@pytest.mark.django_db
def test_generate_load_runs_again_on_top_of_existing_data():
    generate(50, 300, seed=1)
    generate(50, 300, seed=2)

    assert Client.objects.count() == 100 and Case.objects.count() == 600
    assert User.objects.filter(username__startswith="load-").count() == 100  # not duplicated
    newest = Case.objects.create(
        client=Client.objects.first(),
        subject="после генерации",
        channel="phone",
        created_at=Case.objects.first().created_at,
        updated_at=Case.objects.first().created_at,
    )
    assert newest.pk > 600  # ids continue after the generated ones
