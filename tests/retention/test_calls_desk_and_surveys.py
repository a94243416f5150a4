"""Telephone calls, the personal manager's desk and NPS answers under retention."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from otklik.analytics.models import NpsSurvey
from otklik.cases.models import Case
from otklik.relationship.models import (
    AssignmentChange,
    HealthSummary,
    ManagerTask,
    Metric,
    MetricValue,
    OfferOutcome,
    OfferRule,
    RelatedClient,
    Relationship,
)
from otklik.retention.models import AnonymisedClient
from otklik.retention.services import retention_run
from otklik.telephony.models import Call, Callback, CallEvent
from otklik.telephony.services import CallEventData, call_event_apply
from tests.factories import make_case
from tests.retention.world import DAY, YEAR, a_client, closed_case_with_history

pytestmark = pytest.mark.django_db


def a_missed_call(client, call_id: str, *, at) -> Call:
    """A call the PBX reported ringing and hung up unanswered (so it waits for a callback)."""
    for n, kind in enumerate(("ringing", "hangup")):
        event = CallEventData(
            event_id=f"{call_id}-{n}",
            type=kind,
            call_id=call_id,
            occurred_at=at,
            caller="+7 916 555-12-34",
            callee="8800",
            recording_url="https://pbx.example/rec/1.wav" if kind == "hangup" else "",
        )
        call, _new = call_event_apply(event=event, now=at)
    Call.objects.filter(pk=call.pk).update(client=client)
    return Call.objects.get(pk=call.pk)


def test_a_call_past_the_summaries_term_loses_number_recording_and_client(cast):
    at = timezone.now()
    client = a_client()
    old = a_missed_call(client, "old", at=at)
    young = a_missed_call(client, "young", at=at + 2 * YEAR)
    on_open_case = a_missed_call(client, "open", at=at)
    case = make_case(actor=cast.alice, client=client, subject="Арест счёта", now=at)
    Call.objects.filter(pk=on_open_case.pk).update(case=case)
    assert Callback.objects.filter(call=old).exclude(number="").exists()
    assert old.recording_url and CallEvent.objects.filter(call=old).exclude(payload={}).exists()

    run = retention_run(now=at + 3 * YEAR + DAY)

    old.refresh_from_db()
    assert (old.number, old.recording_url, old.client_id) == ("", "", None)
    assert old.talk_seconds == 0 and old.abandoned == Call.objects.get(pk=old.pk).abandoned
    assert not CallEvent.objects.filter(call=old).exclude(payload={}).exists()
    assert CallEvent.objects.filter(call=old).count() == 2  # the timeline stays
    callback = Callback.objects.get(call=old)
    assert (callback.number, callback.client_id) == ("", None)
    for kept in (young, on_open_case):
        kept.refresh_from_db()
        assert kept.number and kept.client_id == client.pk and kept.recording_url
    assert run.counts["interactions"]["anonymised"] == 1
    # A second run finds nothing more to do.
    assert retention_run(now=at + 3 * YEAR + DAY).counts["interactions"]["anonymised"] == 0


def test_a_call_on_a_case_goes_with_the_case(cast, settings):
    settings.OTKLIK_RETENTION_DISABLED = ["interactions"]
    closed = timezone.now()
    client = a_client()
    case = closed_case_with_history(cast, client, at=closed)
    call = a_missed_call(client, "on-case", at=closed)
    Call.objects.filter(pk=call.pk).update(case=case)

    retention_run(now=closed + 5 * YEAR + DAY)

    call.refresh_from_db()
    assert (call.number, call.recording_url, call.client_id) == ("", "", None)
    assert Case.objects.get(pk=case.pk).subject == ""


def a_premium_client_with_a_desk(cast, *, at):
    client = a_client()
    wife = a_client("Орлова-Смирнова", "+7 916 555-99-88")
    Relationship.objects.create(
        client=client, interests="Рыбалка, внуки", notes="Жена Анна", preferred_hours="после 18"
    )
    RelatedClient.objects.create(client=wife, related=client, relation="муж")
    metric = Metric.objects.create(code="spend", name="Траты", unit="rub")
    MetricValue.objects.create(
        client=client, metric=metric, period=date(2020, 1, 1), value=Decimal(1), updated_at=at
    )
    HealthSummary.objects.create(client=client, score=80, computed_at=at)
    rule = OfferRule.objects.create(code="card", title="Кредитная карта")
    OfferOutcome.objects.create(
        client=client, rule=rule, manager=cast.alice, status="accepted", at=at
    )
    AssignmentChange.objects.create(
        client=client, to_manager=cast.alice, by=cast.alice, reason="Развод, просил мужчину", at=at
    )
    return client, wife


def test_the_service_profile_and_desk_go_when_the_client_is_anonymised(cast):
    closed = timezone.now()
    client, _wife = a_premium_client_with_a_desk(cast, at=closed)
    closed_case_with_history(cast, client, at=closed)

    retention_run(now=closed + 5 * YEAR + DAY)

    assert AnonymisedClient.objects.filter(client=client, is_placeholder=False).exists()
    assert not Relationship.objects.filter(client=client).exists()
    assert not RelatedClient.objects.filter(related=client).exists()
    assert not MetricValue.objects.filter(client=client).exists()
    assert not HealthSummary.objects.filter(client=client).exists()
    # The manager's figures keep the offer, on the placeholder; the history keeps the move.
    offer = OfferOutcome.objects.get()
    assert offer.client_id != client.pk and offer.status == "accepted"
    change = AssignmentChange.objects.get(client=client)
    assert change.reason == "" and change.to_manager == cast.alice


def test_a_client_the_bank_still_sends_figures_for_or_with_an_open_task_is_kept(cast):
    closed = timezone.now()
    client, _wife = a_premium_client_with_a_desk(cast, at=closed)
    MetricValue.objects.filter(client=client).update(updated_at=closed + 5 * YEAR)
    other = a_client("Петров", "+7 916 000-00-01")
    ManagerTask.objects.create(manager=cast.alice, client=other, title="Перезвонить", due_at=closed)

    retention_run(now=closed + 5 * YEAR + DAY)

    assert Relationship.objects.filter(client=client).exists()
    for kept in (client, other):
        assert not AnonymisedClient.objects.filter(client=kept).exists()


def test_nps_answers_keep_the_score_and_lose_client_and_comment(cast):
    sent = timezone.now()
    client = a_client()
    old = NpsSurvey.objects.create(
        client=client,
        kind="relationship",
        channel="sms",
        token_hash="a" * 64,
        sent_at=sent,
        answered_at=sent,
        score=3,
        comment="Менеджер Иванов хамил, звоните мне",
    )
    young = NpsSurvey.objects.create(
        client=client,
        kind="relationship",
        channel="sms",
        token_hash="b" * 64,
        sent_at=sent + YEAR,
        score=9,
        comment="Спасибо",
    )

    run = retention_run(now=sent + 3 * YEAR + DAY)

    old.refresh_from_db()
    young.refresh_from_db()
    assert old.client_id != client.pk and old.comment == "" and old.score == 3
    assert young.client_id == client.pk and young.comment == "Спасибо"
    assert run.counts["surveys"] == {"anonymised": 1, "deleted": 0, "files": 0, "days": 1095}
