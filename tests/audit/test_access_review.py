"""The access review: supervisors and admins see who read a client's data and when."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.audit.models import AuditRecord
from otklik.audit.selectors import PAGE_SIZE
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

REVIEW = reverse("audit:access_review")
EXPORT = reverse("audit:access_review_export")


@pytest.fixture
def reads(cast):
    """Alice opened Ivanova's card yesterday, Bob today; Bob also opened Petrov's card."""
    ivanova = ClientFactory(last_name="Иванова")
    petrov = ClientFactory(last_name="Петров")
    now = timezone.now()
    rows = [
        (cast.alice, ivanova, now - timedelta(days=1)),
        (cast.bob, ivanova, now),
        (cast.bob, petrov, now),
    ]
    for actor, client, at in rows:
        record = AuditRecord.objects.create(
            actor=actor, action="client.view", client=client, via="workspace", ip="10.0.0.7"
        )
        AuditRecord.objects.filter(pk=record.pk).update(created_at=at)
    return ivanova, petrov


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize("who", ["alice", "olga", "bob", "sam", "tom", "pavel"])
def test_only_supervisors_and_admins_may_review(client, cast, reads, who):
    ivanova, _ = reads
    client.force_login(getattr(cast, who))
    assert client.get(REVIEW, {"client": ivanova.pk}).status_code == 403
    assert client.get(EXPORT, {"client": ivanova.pk}).status_code == 403
    assert not AuditRecord.objects.filter(action="access_review.export").exists()
    card = client.get(reverse("workspace:client_card", args=[ivanova.pk]))
    assert REVIEW not in card.content.decode()


def test_anonymous_is_sent_to_login(client, db):
    assert client.get(REVIEW)["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_review_lists_who_read_the_client_linked_from_the_card(client, cast, reads, role):
    ivanova, _ = reads
    client.force_login(UserFactory(username=f"reviewer-{role}", role=role))
    card = client.get(reverse("workspace:client_card", args=[ivanova.pk])).content.decode()
    assert f"{REVIEW}?client={ivanova.pk}" in card
    html = client.get(REVIEW, {"client": ivanova.pk}).content.decode()
    assert cast.alice.display_name in html and cast.bob.display_name in html
    assert "Петров" not in html
    # The reviewer's own opening of the card is in the log too.
    assert html.count("Opened the client card") + html.count("Открыл") >= 1


def test_filters_by_staff_member_and_period(client, cast, reads):
    ivanova, _petrov = reads
    client.force_login(cast.sue)
    html = client.get(REVIEW, {"actor": cast.bob.pk}).content.decode()
    assert "Петров" in html and cast.alice.display_name not in html.split("<tbody>")[1]
    today = timezone.localdate().isoformat()
    html = client.get(REVIEW, {"client": ivanova.pk, "since": today}).content.decode()
    rows = html.split("<tbody>")[1]
    assert cast.bob.display_name in rows and cast.alice.display_name not in rows
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    html = client.get(REVIEW, {"until": yesterday}).content.decode()
    rows = html.split("<tbody>")[1]
    assert cast.alice.display_name in rows and cast.bob.display_name not in rows
    # Nonsense in the filters is ignored, not a server error.
    assert client.get(REVIEW, {"since": "вчера", "client": "x"}).status_code == 200


def test_review_is_paginated(client, cast):
    person = ClientFactory()
    AuditRecord.objects.bulk_create(
        AuditRecord(actor=cast.alice, action="client.view", client=person, via="api")
        for _ in range(PAGE_SIZE + 3)
    )
    client.force_login(cast.sue)
    first = client.get(REVIEW, {"client": person.pk}).content.decode()
    second = client.get(REVIEW, {"client": person.pk, "page": 2}).content.decode()
    assert first.split("<tbody>")[1].count("<tr>") == PAGE_SIZE and "page=2" in first
    assert second.split("<tbody>")[1].count("<tr>") == 3 and "page=3" not in second


def test_export_has_every_matching_row_and_is_itself_audited(client, cast, reads):
    ivanova, _ = reads
    client.force_login(cast.sue)
    response = client.get(EXPORT, {"client": ivanova.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["time", "staff_username", "staff_name"]
    assert sorted(r[1] for r in body) == ["alice", "bob"]
    assert all(r[7] == str(ivanova.pk) and r[10] == "10.0.0.7" for r in body)
    export = AuditRecord.objects.get(action="access_review.export")
    assert (export.actor, export.client_id) == (cast.sue, ivanova.pk)
    assert f"client={ivanova.pk}" in export.detail


def test_export_cells_cannot_run_as_spreadsheet_formulas(client, cast):
    person = ClientFactory(last_name='=HYPERLINK("http://evil")')
    AuditRecord.objects.create(actor=cast.alice, action="client.view", client=person, via="api")
    client.force_login(cast.sue)
    rows = _csv(client.get(EXPORT, {"client": person.pk}))
    assert rows[1][8].startswith("'=")
