"""Batch intake: up to 100 cases in one request, each opened exactly as a single intake."""

import pytest

from otklik.api.models import IdempotencyKey
from otklik.cases.models import Case, CaseStatus, Message
from otklik.sla.models import Deadline, SlaPolicy
from tests.api.conftest import fields
from tests.factories import ClientFactory, TopicFactory

pytestmark = pytest.mark.django_db


def intake(client, **overrides) -> dict:
    return {
        "client_id": client.pk,
        "subject": "Не проходит оплата картой",
        "channel": "chat",
        **overrides,
    }


def history(case: Case) -> list[tuple]:
    return [
        (e.kind, e.field, e.old_value, e.new_value, e.actor_id) for e in case.events.order_by("id")
    ]


def clocks(case: Case) -> list[tuple]:
    return sorted(
        (d.kind, d.policy_id, d.target_minutes, d.due_at - case.created_at)
        for d in case.deadlines.all()
    )


def test_batch_opens_every_case_like_a_single_intake(cast, api):
    """Same status, owner, team, note, history and SLA clocks as `POST /api/cases`."""
    topic = TopicFactory(name="Платежи", default_team=cast.team_b)
    SlaPolicy.objects.create(name="Платежи", topic=topic, resolution_minutes=120)
    first, second = ClientFactory(), ClientFactory()
    bodies = [
        intake(first, topic_id=topic.pk, priority=3, description="Оплата не проходит"),
        intake(second, channel="phone"),
    ]
    alice = api(cast.alice)
    singles = [alice.post("/api/cases", body) for body in bodies]
    batch = alice.post("/api/cases/batch", {"cases": bodies})

    assert batch.status_code == 201
    items = batch.json()["items"]
    assert [i["client"]["id"] for i in items] == [first.pk, second.pk]
    for single, item in zip(singles, items, strict=True):
        one, other = Case.objects.get(pk=single.json()["id"]), Case.objects.get(pk=item["id"])
        for name in ("status", "owner", "team", "topic", "priority", "channel", "subject"):
            assert getattr(one, name) == getattr(other, name), name
        assert history(one) == history(other)
        assert clocks(one) == clocks(other)
        assert list(one.messages.values_list("body", "visibility")) == list(
            other.messages.values_list("body", "visibility")
        )
        assert item["due_at"] is not None and item["team"] == single.json()["team"]
    described = Case.objects.get(pk=items[0]["id"])
    assert described.status == CaseStatus.IN_PROGRESS
    assert described.team == cast.team_b
    assert Deadline.objects.get(case=described, kind="resolution").target_minutes == 120


def test_one_bad_case_refuses_the_batch_naming_its_position_and_writes_nothing(cast, api):
    archived = TopicFactory(name="Старое", is_active=False)
    client = ClientFactory()
    before = (Case.objects.count(), Message.objects.count(), Deadline.objects.count())
    response = api(cast.alice).post(
        "/api/cases/batch",
        {
            "cases": [
                intake(client, description="Первый"),
                intake(client, topic_id=archived.pk),
                intake(client, client_id=999_999),
            ]
        },
    )
    assert response.status_code == 422
    assert fields(response) == {"cases.2.client_id"}  # lookups are checked before any write
    response = api(cast.alice).post(
        "/api/cases/batch",
        {"cases": [intake(client, description="Первый"), intake(client, topic_id=archived.pk)]},
    )
    assert response.status_code == 422
    assert fields(response) == {"cases.1.topic_id"}
    assert (Case.objects.count(), Message.objects.count(), Deadline.objects.count()) == before


@pytest.mark.parametrize("count", [0, 101])
def test_batch_size_is_bounded(cast, api, count):
    client = ClientFactory()
    response = api(cast.alice).post("/api/cases/batch", {"cases": [intake(client)] * count})
    assert response.status_code == 422
    assert fields(response) == {"cases"}
    assert not Case.objects.exists()


def test_specialist_cannot_open_cases_for_clients_they_cannot_see(cast, api):
    client = ClientFactory()
    response = api(cast.sam).post("/api/cases/batch", {"cases": [intake(client)]})
    assert response.status_code == 422
    assert fields(response) == {"cases.0.client_id"}  # same answer as a missing client
    assert not Case.objects.exists()


def test_retried_batch_replays_and_opens_nothing_more(cast, api):
    client = ClientFactory()
    alice = api(cast.alice)
    body = {"cases": [intake(client), intake(client, subject="Второй вопрос")]}
    first = alice.post("/api/cases/batch", body, key="gateway-0001")
    retry = alice.post("/api/cases/batch", body, key="gateway-0001")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1


def test_batch_needs_authentication(db):
    from django.test import Client as WebClient

    response = WebClient().post("/api/cases/batch", {"cases": []}, content_type="application/json")
    assert response.status_code == 401
