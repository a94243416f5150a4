"""Chats, calls, files and the plainly deletable classes, each by its own term."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from otklik.actions.models import BackofficeCall, CallStatus
from otklik.audit.models import AuditRecord
from otklik.audit.services import audit_record
from otklik.cases.models import Interaction
from otklik.cases.services import interaction_register
from otklik.chat.models import BotDecision, ChatMessage, ChatRating, Conversation
from otklik.chat.services import chat_rate
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox, OutboxStatus
from otklik.notifications.services import notify
from otklik.portal.models import PortalLoginCode
from otklik.portal.services import portal_code_request
from otklik.retention.models import AnonymisedClient
from otklik.retention.services import retention_run
from tests.retention.world import DAY, YEAR, a_client, answered_call, closed_chat, files_on_disk

pytestmark = pytest.mark.django_db


def test_a_closed_chat_loses_transcript_files_and_client_after_three_years(cast):
    closed = timezone.now()
    client = a_client()
    old = closed_chat(client, at=closed)
    chat_rate(conversation=old, score=2, comment="Оператор не помог, звоните 8 916 555 12 34")
    BotDecision.objects.create(
        conversation=old, query="мой паспорт 4510 123456", decision="answer", created_at=closed
    )
    young = closed_chat(None, at=closed + 2 * YEAR)
    assert len(files_on_disk(settings.MEDIA_ROOT)) == 2

    run = retention_run(now=closed + 3 * YEAR + DAY)

    old.refresh_from_db()
    assert old.client_id is None and old.closed_at == closed and old.status == "closed"
    assert not ChatMessage.objects.filter(conversation=old).exists()
    assert BotDecision.objects.get(conversation=old).query == ""
    rating = ChatRating.objects.get(conversation=old)
    assert (rating.score, rating.comment) == (2, "")
    assert ChatMessage.objects.filter(conversation=young).exclude(attachment="").count() == 1
    [kept] = files_on_disk(settings.MEDIA_ROOT)
    assert (
        kept.name == ChatMessage.objects.exclude(attachment="").get().attachment.name.split("/")[-1]
    )
    assert run.counts["chats"]["anonymised"] == 1


def test_a_call_summary_is_anonymised_after_three_years_unless_its_case_is_open(cast):
    at = timezone.now()
    client = a_client()
    old = answered_call(cast, client, at=at)
    young = answered_call(cast, client, at=at + YEAR)
    on_open_case = interaction_register(
        actor=cast.alice, client=client, channel="phone", new_case_subject="Долг", now=at
    )

    run = retention_run(now=at + 3 * YEAR + DAY)

    old.refresh_from_db()
    young.refresh_from_db()
    on_open_case.refresh_from_db()
    placeholder = AnonymisedClient.objects.get(is_placeholder=True).client_id
    assert (old.client_id, old.summary, old.started_at) == (placeholder, "", at)
    assert old.case.client_id == client.pk  # the case itself has a five-year term
    # Kept as stored (the passport number was redacted when the summary was saved).
    assert (young.client_id, young.summary) == (client.pk, "Спросила курс, паспорт •••• 3456")
    assert on_open_case.client_id == client.pk
    assert run.counts["interactions"]["anonymised"] == 1


def test_plain_deletions_take_only_finished_old_rows(cast):
    now = timezone.now()
    client = a_client()
    sent = notify(key="t-sent", channel="sms", address="+79165551234", body="Ответ готов")
    pending = notify(key="t-pending", channel="sms", address="+79165551234", body="Ждёт")
    young = notify(key="t-young", channel="sms", address="+79165551234", body="Свежее")
    Outbox.objects.filter(pk__in=[sent.pk, young.pk]).update(status=OutboxStatus.SENT)
    run_at = now + 3 * YEAR + DAY
    Outbox.objects.filter(pk=young.pk).update(created_at=run_at - 10 * DAY)
    portal_code_request(identifier="+7 916 555-12-34", ip="10.0.0.1", now=now)
    done_call = BackofficeCall.objects.create(
        key="k1",
        operation="card_unblock",
        status=CallStatus.DONE,
        next_attempt_at=now,
        created_at=now,
    )
    waiting_call = BackofficeCall.objects.create(
        key="k2",
        operation="card_unblock",
        status=CallStatus.FAILED,
        next_attempt_at=now,
        created_at=now,
    )
    session = SessionStore()
    session["x"] = 1
    session.set_expiry(60)
    session.create()
    LiveEvent.objects.create(user=cast.alice, kind="x", text="Орлова написала", created_at=now)
    old_read = audit_record(
        actor=cast.alice, action="client_view", via="workspace", client_id=client.pk
    )
    young_read = audit_record(
        actor=cast.alice, action="client_view", via="workspace", client_id=client.pk
    )
    AuditRecord.objects.filter(pk=young_read.pk).update(created_at=now + 2 * YEAR)

    run = retention_run(now=run_at)

    outbox = set(Outbox.objects.values_list("pk", flat=True))
    assert sent.pk not in outbox and {pending.pk, young.pk} <= outbox
    assert not PortalLoginCode.objects.exists()
    assert set(BackofficeCall.objects.values_list("pk", flat=True)) == {waiting_call.pk}
    assert not Session.objects.filter(session_key=session.session_key).exists()
    assert not LiveEvent.objects.exists()
    assert not AuditRecord.objects.filter(pk=old_read.pk).exists()
    assert AuditRecord.objects.filter(pk=young_read.pk).exists()
    assert not BackofficeCall.objects.filter(pk=done_call.pk).exists()
    deleted = {name: c["deleted"] for name, c in run.counts.items()}
    assert deleted["outbox"] == 1 and deleted["one_time_codes"] == 1
    assert deleted["backoffice_calls"] == 1 and deleted["sessions"] == 1


def test_nothing_young_is_touched(cast):
    now = timezone.now()
    client = a_client()
    from tests.retention.world import closed_case_with_history

    case = closed_case_with_history(cast, client, at=now)
    answered_call(cast, client, at=now)
    closed_chat(client, at=now)
    sent = notify(key="t-sent", channel="sms", address="+79165551234", body="Ответ готов")
    Outbox.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)
    audit_record(actor=cast.alice, action="client_view", via="workspace", client_id=client.pk)
    files = files_on_disk(settings.MEDIA_ROOT)
    rows = {m: m.objects.count() for m in (Interaction, ChatMessage, Outbox, AuditRecord)}

    run = retention_run(now=now + timedelta(hours=12))

    assert all(c["anonymised"] == c["deleted"] == c["files"] == 0 for c in run.counts.values())
    assert files_on_disk(settings.MEDIA_ROOT) == files and len(files) == 2
    assert {m: m.objects.count() for m in rows} == {**rows, AuditRecord: rows[AuditRecord]}
    case.refresh_from_db()
    assert case.client_id == client.pk and case.subject
    assert Conversation.objects.get().client_id == client.pk
    assert not AnonymisedClient.objects.exists()  # not even the placeholder was made
