"""Call events from the PBX: signed, idempotent, popping the right operator's screen only;
hang-up figures, missed calls onto the callback list, wrap-up onto the chosen case."""

import json
from datetime import timedelta

import pytest

from otklik.cases.models import Interaction
from otklik.clients.models import ChannelKind, ContactPoint
from otklik.common.errors import NotAllowed
from otklik.live.models import LiveEvent
from otklik.telephony import services
from otklik.telephony.models import Call, Callback, CallbackStatus, CallEvent, OperatorExtension
from otklik.telephony.selectors import call_figures
from otklik.telephony.signing import sign
from tests.factories import ClientFactory
from tests.telephony.pbx import Pbx, django_client_transport

pytestmark = pytest.mark.django_db


@pytest.fixture
def desks(cast):
    OperatorExtension.objects.create(user=cast.alice, extension="101")
    OperatorExtension.objects.create(user=cast.bob, extension="102")


@pytest.fixture
def pbx(client):
    return Pbx(django_client_transport(client))


@pytest.fixture
def maria():
    person = ClientFactory(first_name="Мария")
    ContactPoint.objects.create(client=person, kind=ChannelKind.PHONE, value="+79161234567")
    return person


def test_unsigned_forged_or_stale_events_are_refused(client):
    body = json.dumps(
        {"event_id": "x", "type": "ringing", "call_id": "c", "occurred_at": "2027-03-01T10:00:00Z"}
    ).encode()
    post = django_client_transport(client)
    assert post(body, "")[0] == 401
    assert post(body, sign(body, secret="not-the-secret"))[0] == 401
    assert post(body, sign(body, at=1_000_000_000))[0] == 401  # years old
    assert post(body + b" ", sign(body))[0] == 401  # body changed after signing
    assert not Call.objects.exists()


def test_ringing_pops_the_client_card_for_the_operator_at_that_extension_only(
    pbx, desks, cast, maria
):
    status, body = pbx.send("ringing", "c1", caller="8 (916) 123-45-67", extension="101")
    assert status == 201 and body["duplicate"] is False
    [pop] = LiveEvent.objects.filter(kind="call.ringing")
    assert pop.user == cast.alice
    assert pop.payload["clients"][0]["id"] == maria.pk
    assert pop.payload["clients"][0]["card_url"].endswith("?intake=phone#intake")
    assert not LiveEvent.objects.filter(user=cast.bob).exists()
    # The PBX retries the same event: answered, nothing applied twice.
    again = pbx.send("ringing", "c1", event_id=CallEvent.objects.get().event_id, extension="101")
    assert again == (200, {"call_id": "c1", "status": "ringing", "duplicate": True})
    assert LiveEvent.objects.filter(kind="call.ringing").count() == 1


def test_unknown_number_offers_a_search(pbx, desks, cast):
    pbx.send("ringing", "c2", caller="+7 999 000-00-00", extension="102")
    [pop] = LiveEvent.objects.filter(kind="call.ringing")
    assert pop.user == cast.bob and pop.payload["clients"] == []
    assert pop.payload["search_url"] == "/clients/search"


def test_durations_transfer_recording_and_wrap_up_onto_the_chosen_case(
    pbx, desks, cast, maria, settings
):
    settings.OTKLIK_SL_SECONDS = {**settings.OTKLIK_SL_SECONDS, "phone": 20}
    pbx.send("ringing", "c3", 0, caller="+79161234567", extension="101")
    pbx.send("answered", "c3", 6, extension="101")
    pbx.send("hold", "c3", 60)
    pbx.send("unhold", "c3", 90)
    pbx.send("transfer", "c3", 100, transfer_to="102")
    pbx.send("hangup", "c3", 200, recording_url="https://pbx.example/rec/c3.mp3")
    call = Call.objects.get(call_id="c3")
    assert (call.ring_seconds, call.talk_seconds, call.hold_seconds) == (6, 164, 30)
    assert call.answered_in_target and not call.abandoned and call.transfers == 1
    assert call.operator == cast.bob  # the transfer moved it, and popped Bob's screen
    assert LiveEvent.objects.filter(user=cast.bob, kind="call.ringing").exists()
    assert LiveEvent.objects.filter(user=cast.bob, kind="call.ended").exists()
    with pytest.raises(NotAllowed):
        services.call_attach(actor=cast.alice, call=call, new_case_subject="x")
    interaction = services.call_attach(
        actor=cast.bob, call=call, new_case_subject="Вопрос по карте", note="Объяснил тариф"
    )
    interaction = Interaction.objects.get(pk=interaction.pk)
    assert interaction.channel == ChannelKind.PHONE and interaction.direction == "inbound"
    assert interaction.operator == cast.bob and interaction.case.client == maria
    assert interaction.started_at == call.started_at and interaction.ended_at == call.ended_at
    assert "https://pbx.example/rec/c3.mp3" in interaction.summary
    assert "164" in interaction.summary and "Объяснил тариф" in interaction.summary


def test_missed_call_becomes_a_callback_that_one_click_takes(pbx, desks, cast, maria, settings):
    settings.OTKLIK_CTI_CALLBACK_MINUTES = 30
    pbx.send("ringing", "c4", 0, caller="+79161234567", extension="101")
    pbx.send("hangup", "c4", 40)
    call = Call.objects.get(call_id="c4")
    assert call.abandoned and call.status == "missed" and call.ring_seconds == 40
    callback = Callback.objects.get(call=call)
    assert callback.client == maria and callback.due_at == call.ended_at + timedelta(minutes=30)
    assert services.callback_start(actor=cast.alice, callback=callback) == "tel:+79161234567"
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CALLING and callback.taken_by == cast.alice
    # Alice's outbound call to the number is answered: the callback is done.
    pbx.send("ringing", "c5", 300, direction="outbound", callee="+79161234567", extension="101")
    pbx.send("answered", "c5", 310, extension="101")
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE
    assert not LiveEvent.objects.filter(
        kind="call.ringing", payload__call=Call.objects.get(call_id="c5").pk
    ).exists()


def test_figures_give_service_level_and_handle_time(pbx, desks, settings):
    settings.OTKLIK_SL_SECONDS = {**settings.OTKLIK_SL_SECONDS, "phone": 20}
    pbx.send("ringing", "f1", 0, caller="+79160000001", extension="101")
    pbx.send("answered", "f1", 5)
    pbx.send("hangup", "f1", 125)  # 120 s talk, in target
    pbx.send("ringing", "f2", 0, caller="+79160000002", extension="101")
    pbx.send("answered", "f2", 45)
    pbx.send("hangup", "f2", 105)  # 60 s talk, late
    pbx.send("ringing", "f3", 0, caller="+79160000003", extension="101")
    pbx.send("hangup", "f3", 30)  # abandoned
    figures = call_figures(start=pbx.start - timedelta(hours=1), end=pbx.start + timedelta(hours=1))
    assert (figures.offered, figures.answered, figures.answered_in_target, figures.abandoned) == (
        3,
        2,
        1,
        1,
    )
    assert figures.service_level == pytest.approx(1 / 3)
    assert figures.average_handle_seconds == 90


def test_the_endpoint_is_in_the_openapi_schema_with_examples(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/telephony/events"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert {"ringing", "answered", "transfer", "hangup"} <= set(examples)
    assert operation["security"]
