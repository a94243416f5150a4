"""Cases over the API: visibility, queue filters and paging, intake, edits, lifecycle."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from otklik.audit.models import AuditRecord
from otklik.cases.models import Case, CaseEvent, CaseStatus, Message
from otklik.cases.services import case_transition
from otklik.handoffs.models import Handoff
from tests.api.conftest import fields
from tests.factories import ClientFactory, TopicFactory, make_case

pytestmark = pytest.mark.django_db


def intake(client, **overrides) -> dict:
    return {
        "client_id": client.pk,
        "subject": "Не проходит оплата картой",
        "channel": "phone",
        **overrides,
    }


# --- visibility -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/messages", "/events", "/transitions"])
def test_operator_of_another_team_gets_404_for_a_case_by_id(cast, api, suffix):
    case = make_case(actor=cast.alice)
    response = api(cast.bob).get(f"/api/cases/{case.pk}{suffix}")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}  # nothing about the case leaks


def test_operator_of_another_team_cannot_write_to_the_case(cast, api):
    case = make_case(actor=cast.alice)
    bob = api(cast.bob)
    assert bob.patch(f"/api/cases/{case.pk}", {"subject": "чужое"}).status_code == 404
    assert (
        bob.post(f"/api/cases/{case.pk}/transition", {"status": "in_progress"}).status_code == 404
    )
    assert bob.post(f"/api/cases/{case.pk}/messages", {"body": "x"}).status_code == 404
    case.refresh_from_db()
    assert (case.subject, case.status) == ("Вопрос клиента", "new")
    assert not Message.objects.exists()


def test_specialist_sees_only_cases_handed_to_their_department(cast, api):
    handed, other = make_case(actor=cast.alice), make_case(actor=cast.alice)
    Handoff.objects.create(
        case=handed,
        department=cast.security,
        question="Проверьте платёж",
        created_at=timezone.now(),
    )
    sam = api(cast.sam)
    assert sam.get(f"/api/cases/{handed.pk}").status_code == 200
    assert sam.get(f"/api/cases/{other.pk}").status_code == 404
    assert api(cast.tom).get(f"/api/cases/{handed.pk}").status_code == 404
    listed = sam.get("/api/cases", {"scope": "all"}).json()["items"]
    assert [c["id"] for c in listed] == [handed.pk]
    assert sam.get(f"/api/cases/{handed.pk}/transitions").json()["allowed"] == []


def test_case_read_is_audited(cast, api):
    case = make_case(actor=cast.alice)
    api(cast.alice).get(f"/api/cases/{case.pk}")
    record = AuditRecord.objects.get(action="case.view")
    assert (record.actor, record.client_id, record.object_id) == (
        cast.alice,
        case.client_id,
        str(case.pk),
    )


# --- queue ------------------------------------------------------------------------------


def test_queue_pages_with_has_next_and_audits_the_clients_shown(cast, api):
    now = timezone.now()
    cases = [make_case(actor=cast.alice, now=now - timedelta(minutes=10 - i)) for i in range(5)]
    alice = api(cast.alice)

    first = alice.get("/api/cases", {"page_size": 2, "sort": "oldest"}).json()
    last = alice.get("/api/cases", {"page_size": 2, "page": 3, "sort": "oldest"}).json()

    assert [c["id"] for c in first["items"]] == [cases[0].pk, cases[1].pk]
    assert (first["page"], first["page_size"], first["has_next"]) == (1, 2, True)
    assert [c["id"] for c in last["items"]] == [cases[4].pk]
    assert last["has_next"] is False
    assert "count" not in first
    assert AuditRecord.objects.filter(action="case.list").count() == 3


def test_queue_filters(cast, api):
    topic = TopicFactory(name="Закрытие ИИС")
    client = ClientFactory()
    phone = make_case(actor=cast.alice, client=client, priority=4, topic=topic)
    chat = make_case(actor=cast.alice, channel="chat")
    resolved = make_case(actor=cast.alice, client=client)
    case_transition(actor=cast.alice, case=resolved, to_status="resolved")
    overdue = make_case(actor=cast.alice, now=timezone.now() - timedelta(days=30))
    olgas = make_case(actor=cast.olga)
    alice = api(cast.alice)

    def ids(**params):
        response = alice.get("/api/cases", params)
        assert response.status_code == 200, response.content
        return {c["id"] for c in response.json()["items"]}

    assert ids() == {phone.pk, chat.pk, overdue.pk, olgas.pk}
    assert ids(scope="mine") == {phone.pk, chat.pk, overdue.pk}
    assert ids(status="resolved") == {resolved.pk}
    assert ids(status="any", client_id=client.pk) == {phone.pk, resolved.pk}
    assert ids(channel="chat") == {chat.pk}
    assert ids(topic_id=topic.pk) == {phone.pk}
    assert ids(overdue="true") == {overdue.pk}
    first = alice.get("/api/cases", {"sort": "priority"}).json()["items"][0]
    assert first["id"] == phone.pk
    assert alice.get(f"/api/cases/{overdue.pk}").json()["is_overdue"] is True


def test_operator_scope_all_shows_only_what_they_may_see(cast, api):
    mine, bobs = make_case(actor=cast.alice), make_case(actor=cast.bob)
    ids = {c["id"] for c in api(cast.alice).get("/api/cases", {"scope": "all"}).json()["items"]}
    assert mine.pk in ids and bobs.pk not in ids


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": settings.API_MAX_PAGE_SIZE + 1}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"scope": "everyone"}, "scope"),
        ({"status": "lost"}, "status"),
        ({"channel": "fax"}, "channel"),
        ({"sort": "random"}, "sort"),
        ({"topic_id": "x"}, "topic_id"),
    ],
)
def test_bad_queue_parameters_are_422_naming_the_parameter(cast, api, params, field):
    response = api(cast.alice).get("/api/cases", params)
    assert response.status_code == 422
    assert fields(response) == {field}
    assert response.json()["detail"][0]["loc"] == ["query", field]


# --- intake -----------------------------------------------------------------------------


def test_intake_opens_a_case_with_its_description_as_internal_note(cast, api):
    client = ClientFactory()
    topic = TopicFactory(name="Блокировка карты")
    response = api(cast.alice).post(
        "/api/cases",
        intake(client, topic_id=topic.pk, priority=3, description="Клиент за границей"),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert (case.client, case.topic, case.priority, case.owner, case.team) == (
        client,
        topic,
        3,
        cast.alice,
        cast.team_a,
    )
    assert body["client"] == {"id": client.pk, "full_name": client.full_name}
    assert case.messages.get().visibility == "internal"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"channel": "pigeon"}, "channel"),
        ({"priority": 9}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"client_id": "abc"}, "client_id"),
        ({"client_id": 987654}, "client_id"),
        ({"topic_id": 987654}, "topic_id"),
        ({"subject": ["a", "list"]}, "subject"),
        ({"subject": "с нулём \x00"}, "subject"),
    ],
)
def test_bad_intake_is_422_naming_the_field_and_writes_nothing(cast, api, overrides, field):
    client = ClientFactory()
    response = api(cast.alice).post("/api/cases", intake(client, **overrides))
    assert response.status_code == 422, response.content
    assert field in fields(response)
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()


def test_intake_without_subject_key_names_subject(cast, api):
    response = api(cast.alice).post(
        "/api/cases", {"client_id": ClientFactory().pk, "channel": "phone"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "subject"]
    assert not Case.objects.exists()


def test_intake_for_a_client_the_specialist_cannot_see_is_refused(cast, api):
    response = api(cast.sam).post("/api/cases", intake(ClientFactory()))
    assert response.status_code == 422
    assert fields(response) == {"client_id"}
    assert not Case.objects.exists()


def test_malformed_json_is_400_with_the_same_shape(cast, api):
    response = api(cast.alice).http.post("/api/cases", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert not Case.objects.exists()


def test_archived_topic_is_refused(cast, api):
    topic = TopicFactory(name="Старая тема", is_active=False)
    response = api(cast.alice).post("/api/cases", intake(ClientFactory(), topic_id=topic.pk))
    assert response.status_code == 422
    assert fields(response) == {"topic_id"}
    assert not Case.objects.exists()


# --- edits ------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_with_history(cast, api):
    case = make_case(actor=cast.alice)
    topic = TopicFactory(name="Кредиты")
    response = api(cast.alice).patch(
        f"/api/cases/{case.pk}",
        {
            "priority": 4,
            "topic_id": topic.pk,
            "owner_id": cast.bob.pk,  # the owner comes from the case's (new) team
            "team_id": cast.team_b.pk,
        },
    )
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert (case.subject, case.priority, case.topic, case.owner, case.team) == (
        "Вопрос клиента",
        4,
        topic,
        cast.bob,
        cast.team_b,
    )
    changed = set(case.events.filter(kind="field_changed").values_list("field", flat=True))
    assert changed == {"priority", "topic", "owner", "team"}


def test_patch_null_clears_the_owner(cast, api):
    case = make_case(actor=cast.alice)
    response = api(cast.alice).patch(f"/api/cases/{case.pk}", {"owner_id": None})
    assert response.status_code == 200
    assert response.json()["owner"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"priority": 0}, "priority"),
        ({"priority": None}, "priority"),
        ({"subject": ""}, "subject"),
        ({"subject": None}, "subject"),
        ({"owner_id": 987654}, "owner_id"),
        ({"team_id": 987654}, "team_id"),
        ({"topic_id": 987654}, "topic_id"),
        ({"status": "closed"}, "status"),
    ],
)
def test_bad_patch_is_422_naming_the_field_and_changes_nothing(cast, api, body, field):
    case = make_case(actor=cast.alice)
    response = api(cast.alice).patch(f"/api/cases/{case.pk}", body)
    assert response.status_code == 422, response.content
    assert fields(response) == {field}
    case.refresh_from_db()
    assert (case.subject, case.priority, case.owner, case.status) == (
        "Вопрос клиента",
        2,
        cast.alice,
        "new",
    )
    assert not case.events.exclude(kind="created").exists()


# --- lifecycle --------------------------------------------------------------------------


def test_transition_follows_the_lifecycle(cast, api):
    case = make_case(actor=cast.alice)
    alice = api(cast.alice)
    assert "closed" not in alice.get(f"/api/cases/{case.pk}/transitions").json()["allowed"]
    resolved = alice.post(f"/api/cases/{case.pk}/transition", {"status": "resolved"})
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved" and resolved.json()["is_open"] is False
    assert alice.get(f"/api/cases/{case.pk}/transitions").json() == {
        "status": "resolved",
        "allowed": ["in_progress", "closed"],
    }
    closed = alice.post(f"/api/cases/{case.pk}/transition", {"status": "closed"})
    assert closed.json()["status"] == "closed"


def test_new_case_cannot_be_closed_directly(cast, api):
    case = make_case(actor=cast.alice)
    response = api(cast.alice).post(f"/api/cases/{case.pk}/transition", {"status": "closed"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "status"]
    assert response.json()["detail"][0]["msg"]
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert not case.events.filter(kind="status_changed").exists()


def test_unknown_status_is_422(cast, api):
    case = make_case(actor=cast.alice)
    response = api(cast.alice).post(f"/api/cases/{case.pk}/transition", {"status": "done"})
    assert response.status_code == 422
    assert fields(response) == {"status"}


def test_specialist_cannot_move_a_handed_off_case(cast, api):
    case = make_case(actor=cast.alice)
    Handoff.objects.create(
        case=case, department=cast.security, question="?", created_at=timezone.now()
    )
    response = api(cast.sam).post(f"/api/cases/{case.pk}/transition", {"status": "resolved"})
    assert response.status_code == 403  # a role rule, as in the workspace
    case.refresh_from_db()
    assert case.status == "new"


# --- messages and history ---------------------------------------------------------------


def test_reply_takes_a_new_case_into_work_and_shows_in_messages_and_events(cast, api):
    case = make_case(actor=cast.alice)
    alice = api(cast.alice)
    response = alice.post(
        f"/api/cases/{case.pk}/messages",
        {"body": "Проверили, платёж прошёл", "visibility": "public"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["author"]["id"] == cast.alice.pk

    messages = alice.get(f"/api/cases/{case.pk}/messages").json()["items"]
    assert [(m["body"], m["visibility"]) for m in messages] == [
        ("Проверили, платёж прошёл", "public")
    ]
    events = alice.get(f"/api/cases/{case.pk}/events").json()["items"]
    assert [e["kind"] for e in events] == ["created", "message_added", "status_changed"]
    assert alice.get(f"/api/cases/{case.pk}").json()["status"] == "in_progress"
    assert AuditRecord.objects.filter(action="case.messages.view").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"visibility": "public"}, "body"),
        ({"body": "x", "visibility": "secret"}, "visibility"),
    ],
)
def test_bad_message_is_422_and_writes_nothing(cast, api, body, field):
    case = make_case(actor=cast.alice)
    response = api(cast.alice).post(f"/api/cases/{case.pk}/messages", body)
    assert response.status_code == 422
    assert fields(response) == {field}
    assert not Message.objects.exists()
    case.refresh_from_db()
    assert case.status == "new"
