"""Closed cases are anonymised five years after closing; open ones never; freed clients too."""

import pytest
from django.conf import settings
from django.utils import timezone

from otklik.audit.models import AuditRecord
from otklik.audit.services import audit_record
from otklik.cases.models import CaseEvent, CaseStatus, EventKind, Interaction, Message
from otklik.clients.models import Client, ClientSearchTerm, ContactPoint
from otklik.handoffs.models import Handoff, HandoffEvent
from otklik.portal.models import CsiRating, PortalCaseRead
from otklik.retention.models import AnonymisedClient, RetentionRun
from otklik.retention.services import retention_run
from tests.retention.world import (
    DAY,
    YEAR,
    a_client,
    closed_case_with_history,
    files_on_disk,
    handoff_files,
    open_case_with_history,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("age", [3 * YEAR - DAY, 5 * YEAR - DAY])
def test_a_case_closed_less_than_five_years_ago_keeps_its_client_and_texts(cast, age):
    closed = timezone.now()
    client = a_client()
    case = closed_case_with_history(cast, client, at=closed)
    files = files_on_disk(settings.MEDIA_ROOT)
    assert len(files) == 1

    run = retention_run(now=closed + age)

    case.refresh_from_db()
    assert case.client_id == client.pk
    assert case.subject == "Карта 2200 7000 заблокирована"
    assert all(m.body for m in Message.objects.filter(case=case))
    assert Handoff.objects.get(case=case).question == "Проверьте операции по карте"
    client.refresh_from_db()
    assert client.last_name == "Орлова" and ContactPoint.objects.filter(client=client).exists()
    assert run.counts["closed_cases"]["anonymised"] == 0
    assert run.counts["clients"]["anonymised"] == 0
    # Files and call summaries have their own, shorter term (three years).
    call = Interaction.objects.get(case=case)
    if age < 3 * YEAR:
        assert files_on_disk(settings.MEDIA_ROOT) == files and len(handoff_files(case)) == 1
        assert call.summary.startswith("Клиент за границей") and call.client_id == client.pk
    else:
        assert call.summary == "" and call.client_id != client.pk
        assert files_on_disk(settings.MEDIA_ROOT) == [] and handoff_files(case) == []
        assert run.counts["attachments"] == {
            "anonymised": 0,
            "deleted": 1,
            "files": 1,
            "days": 1095,
        }


def test_a_closed_case_past_its_term_keeps_statistics_and_loses_the_person(cast, settings):
    settings.OTKLIK_RETENTION_DISABLED = ["attachments"]  # the case's own run removes its files
    closed = timezone.now()
    client = a_client()
    case = closed_case_with_history(cast, client, at=closed)
    assert len(handoff_files(case)) == 1 and len(files_on_disk(settings.MEDIA_ROOT)) == 1
    reply = Message.objects.filter(case=case).first()
    CsiRating.objects.create(
        case=case,
        message=reply,
        client=client,
        score=4,
        comment="Спасибо, Марина Орлова",
        created_at=closed,
        updated_at=closed,
    )
    PortalCaseRead.objects.create(client=client, case=case, read_at=closed)
    topic, channel, team, owner = case.topic_id, case.channel, case.team_id, case.owner_id

    run = retention_run(now=closed + 5 * YEAR + DAY)

    case.refresh_from_db()
    placeholder = AnonymisedClient.objects.get(is_placeholder=True).client_id
    # Kept for statistics: status, topic, channel, team, owner, timestamps.
    assert (case.status, case.topic_id, case.channel) == (CaseStatus.CLOSED, topic, channel)
    assert (case.team_id, case.owner_id, case.closed_at) == (team, owner, closed)
    # Gone: the client link and every text.
    assert case.client_id == placeholder and case.subject == ""
    assert set(Message.objects.filter(case=case).values_list("body", flat=True)) == {""}
    call = Interaction.objects.get(case=case)
    assert (call.client_id, call.summary) == (placeholder, "")
    handoff = Handoff.objects.get(case=case)
    assert (handoff.question, handoff.answer) == ("", "")
    assert set(HandoffEvent.objects.filter(handoff=handoff).values_list("text", flat=True)) == {""}
    assert handoff_files(case) == [] and files_on_disk(settings.MEDIA_ROOT) == []
    rating = CsiRating.objects.get(case=case)
    assert (rating.score, rating.comment, rating.client_id) == (4, "", placeholder)
    assert not PortalCaseRead.objects.filter(case=case).exists()
    events = CaseEvent.objects.filter(case=case)
    assert not events.exclude(kind=EventKind.STATUS_CHANGED).exclude(new_value="").exists()
    assert events.filter(kind=EventKind.STATUS_CHANGED).exclude(new_value="").exists()
    assert run.counts["closed_cases"] == {"anonymised": 1, "deleted": 0, "files": 1, "days": 1825}


def test_the_client_is_anonymised_once_nothing_live_refers_to_it(cast):
    closed = timezone.now()
    client = a_client()
    closed_case_with_history(cast, client, at=closed)
    read = audit_record(
        actor=cast.alice, action="client_view", via="workspace", client_id=client.pk
    )
    AuditRecord.objects.filter(pk=read.pk).update(created_at=closed + 5 * YEAR)  # read lately

    run = retention_run(now=closed + 5 * YEAR + DAY)

    client.refresh_from_db()
    assert client.last_name == "Клиент анонимизирован"
    assert (client.first_name, client.patronymic, client.address_as) == ("", "", "")
    assert not ContactPoint.objects.filter(client=client).exists()
    assert not ClientSearchTerm.objects.filter(client=client).exists()
    assert AnonymisedClient.objects.filter(client=client, is_placeholder=False).exists()
    assert run.counts["clients"]["anonymised"] == 1
    # The access log still says whose record was read (now an anonymous id).
    assert AuditRecord.objects.get(pk=read.pk).client_id == client.pk


def test_open_cases_of_an_old_client_are_never_touched(cast):
    long_ago = timezone.now()
    client = a_client()
    old = closed_case_with_history(cast, client, at=long_ago)
    still_open = open_case_with_history(cast, client, at=long_ago)
    files_of_open_case = [a.file.path for a in handoff_files(still_open)]

    retention_run(now=long_ago + 6 * YEAR)

    old.refresh_from_db()
    still_open.refresh_from_db()
    assert old.client_id != client.pk  # the closed one is anonymised
    assert still_open.client_id == client.pk and still_open.subject == "Арест счёта"
    assert still_open.status != CaseStatus.CLOSED
    assert Interaction.objects.get(case=still_open).summary == "Звонок"
    assert Handoff.objects.get(case=still_open).question == "Что с арестом?"
    assert [a.file.path for a in handoff_files(still_open)] == files_of_open_case
    assert [str(p) for p in files_on_disk(settings.MEDIA_ROOT)] == files_of_open_case
    client.refresh_from_db()
    assert client.last_name == "Орлова"
    assert not AnonymisedClient.objects.filter(client=client).exists()


def test_a_client_with_an_active_product_is_kept(cast):
    from tests.factories import make_product

    closed = timezone.now()
    client = a_client()
    make_product(client, "card")
    closed_case_with_history(cast, client, at=closed)

    retention_run(now=closed + 6 * YEAR)

    client.refresh_from_db()
    assert client.last_name == "Орлова"


def test_a_recent_client_with_nothing_yet_is_kept(cast):
    client = a_client()
    Client.objects.filter(pk=client.pk).update(created_at=timezone.now())

    retention_run(now=timezone.now() + 4 * YEAR)

    client.refresh_from_db()
    assert client.last_name == "Орлова"


def test_every_real_run_leaves_a_record_of_counts_without_personal_data(cast):
    closed = timezone.now()
    closed_case_with_history(cast, a_client(), at=closed)

    run = retention_run(now=closed + 6 * YEAR)

    stored = RetentionRun.objects.get(pk=run.pk)
    assert stored.complete and stored.finished_at and not stored.dry_run
    assert stored.counts["closed_cases"]["anonymised"] == 1
    record = AuditRecord.objects.get(action="retention_run")
    assert record.object_id == str(run.pk) and record.via == "retention"
    assert "closed_cases a=1" in record.detail
    assert "Орлова" not in record.detail and "Орлова" not in str(stored.counts)
