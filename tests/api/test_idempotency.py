"""A retried create with the same Idempotency-Key replays the first answer."""

import threading

import pytest
from django.db import connection

from otklik.api import idempotency
from otklik.api.models import IdempotencyKey
from otklik.cases.models import Case, Interaction, Message
from otklik.clients.models import Client, Product
from tests.api.conftest import fields
from tests.factories import ClientFactory, make_case

pytestmark = pytest.mark.django_db


def intake(client) -> dict:
    return {"client_id": client.pk, "subject": "Не пришли деньги", "channel": "phone"}


def test_retried_intake_returns_the_same_case_and_creates_one(cast, api):
    client = ClientFactory()
    alice = api(cast.alice)
    first = alice.post("/api/cases", intake(client), key="intake-7f3a")
    retry = alice.post("/api/cases", intake(client), key="intake-7f3a")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Case.objects.count() == 1
    assert Case.objects.get().pk == first.json()["id"]


def test_retry_replays_the_first_answer_even_when_the_work_would_now_fail(cast, api):
    """The key is not looked up first: a retry whose work fails still replays, and the
    failed attempt leaves nothing behind."""
    from otklik.cases.models import Topic

    client = ClientFactory()
    topic = Topic.objects.create(name="Переводы")
    alice = api(cast.alice)
    body = {**intake(client), "topic_id": topic.pk}
    first = alice.post("/api/cases", body, key="intake-archived")
    topic.is_active = False  # archived in the admin
    topic.save()
    retry = alice.post("/api/cases", body, key="intake-archived")
    fresh = alice.post("/api/cases", body, key="intake-new")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert fresh.status_code == 422 and fields(fresh) == {"topic_id"}
    assert Case.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_same_key_with_another_body_is_refused_naming_the_header(cast, api):
    client = ClientFactory()
    alice = api(cast.alice)
    alice.post("/api/cases", intake(client), key="k-1")
    response = alice.post("/api/cases", {**intake(client), "subject": "Другое"}, key="k-1")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert Case.objects.count() == 1


def test_same_key_on_another_endpoint_is_refused(cast, api):
    client = ClientFactory()
    alice = api(cast.alice)
    alice.post("/api/cases", intake(client), key="k-1")
    response = alice.post(
        "/api/interactions",
        {"client_id": client.pk, "channel": "phone", "subject": "Не пришли деньги"},
        key="k-1",
    )
    assert response.status_code == 422
    assert fields(response) == {"Idempotency-Key"}
    assert not Interaction.objects.exists()


def test_keys_are_per_user(cast, api):
    client = ClientFactory()
    alices = api(cast.alice).post("/api/cases", intake(client), key="shared")
    olgas = api(cast.olga).post("/api/cases", intake(client), key="shared")
    assert alices.status_code == olgas.status_code == 201
    assert alices.json()["id"] != olgas.json()["id"]
    assert olgas.json()["owner"]["id"] == cast.olga.pk
    assert Case.objects.count() == 2


def test_refused_request_stores_no_key_so_a_corrected_retry_works(cast, api):
    client = ClientFactory()
    alice = api(cast.alice)
    bad = alice.post("/api/cases", {**intake(client), "subject": " "}, key="k-2")
    assert bad.status_code == 422
    assert not IdempotencyKey.objects.exists()
    good = alice.post("/api/cases", intake(client), key="k-2")
    assert good.status_code == 201
    assert Case.objects.count() == 1


def test_without_a_key_each_post_creates(cast, api):
    client = ClientFactory()
    alice = api(cast.alice)
    alice.post("/api/cases", intake(client))
    alice.post("/api/cases", intake(client))
    assert Case.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_key_is_looked_up_only_when_the_insert_collides(cast, api, monkeypatch):
    """A first request costs no lookup; a duplicate (a retry, or the loser of a race) hits
    the (user, key) unique constraint, its case rolls back with it, and it answers with the
    winner's stored response."""
    client = ClientFactory()
    alice = api(cast.alice)
    real_stored = idempotency._stored
    calls = []

    def counting_lookup(user, key):
        calls.append(key)
        return real_stored(user, key)

    monkeypatch.setattr(idempotency, "_stored", counting_lookup)
    winner = alice.post("/api/cases", intake(client), key="race")
    assert calls == []
    loser = alice.post("/api/cases", intake(client), key="race")

    assert calls == ["race"]
    assert loser.status_code == 201
    assert loser.json() == winner.json()
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/clients", {"last_name": "Орлов", "first_name": "Игорь"}),
        ("/api/clients/{client}/products", {"kind": "brokerage", "name": "Брокерский счёт"}),
        ("/api/cases/{case}/messages", {"body": "Перезвоним завтра"}),
        ("/api/interactions", {"client_id": "{client}", "channel": "chat", "subject": "Чат"}),
    ],
)
def test_every_create_endpoint_replays(cast, api, path, body):
    case = make_case(actor=cast.alice)
    path = path.format(client=case.client_id, case=case.pk)
    body = {k: (case.client_id if v == "{client}" else v) for k, v in body.items()}

    def counts():
        return [m.objects.count() for m in (Client, Product, Message, Interaction)]

    alice = api(cast.alice)
    first = alice.post(path, body, key="once")
    after_first = counts()
    retry = alice.post(path, body, key="once")
    assert first.status_code == retry.status_code == 201, first.content
    assert retry.json() == first.json()
    assert counts() == after_first


def test_key_must_be_printable_and_bounded(cast, api):
    client = ClientFactory()
    response = api(cast.alice).post("/api/cases", intake(client), key="x" * 201)
    assert response.status_code == 422
    assert fields(response) == {"Idempotency-Key"}
    assert not Case.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_parallel_retries_on_postgresql_create_one_case(cast, api):
    client = ClientFactory()
    clients = [api(cast.alice) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    results = []

    def post(http):
        try:
            barrier.wait()
            response = http.post("/api/cases", intake(client), key="parallel")
            results.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == len(clients)
    assert {status for status, _ in results} == {201}
    assert len({case_id for _, case_id in results}) == 1
    assert Case.objects.count() == 1
