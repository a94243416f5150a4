"""Operator pages for calls: only the call's operator (or a supervisor) opens it; the
wrap-up identifies the caller and records the call; callbacks are one click; figures are
for supervisors."""

import pytest
from django.urls import reverse

from otklik.audit.models import AuditRecord
from otklik.cases.models import Interaction
from otklik.clients.models import ChannelKind, ContactPoint
from otklik.telephony.models import Call, Callback, CallbackStatus, OperatorExtension
from tests.factories import ClientFactory
from tests.telephony.pbx import Pbx, django_client_transport

pytestmark = pytest.mark.django_db


@pytest.fixture
def pbx(client, cast):
    OperatorExtension.objects.create(user=cast.alice, extension="101")
    return Pbx(django_client_transport(client))


def test_wrap_up_identifies_an_unknown_caller_and_records_the_call(client, pbx, cast):
    pbx.send("ringing", "w1", 0, caller="+79035550011", extension="101")
    pbx.send("answered", "w1", 4)
    pbx.send("hangup", "w1", 64, recording_url="https://pbx.example/rec/w1.mp3")
    call = Call.objects.get(call_id="w1")
    url = reverse("telephony:call", args=[call.pk])
    client.force_login(cast.bob)
    assert client.get(url).status_code == 404  # not Bob's call
    client.force_login(cast.alice)
    assert "Кто звонил?" in client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    person = ClientFactory(last_name="Звонарёв")
    ContactPoint.objects.create(client=person, kind=ChannelKind.PHONE, value="+79035550099")
    found = client.post(url, {"action": "search", "q": "Звонарёв"})
    assert "Звонарёв" in found.content.decode()
    client.post(url, {"action": "identify", "client_id": person.pk})
    assert "Смена" not in client.get(url).content.decode()  # the card, now with the client
    assert AuditRecord.objects.filter(action="call.view", client_id=person.pk).exists()
    response = client.post(url, {"action": "attach", "subject": "Смена номера", "note": "ок"})
    interaction = Interaction.objects.get(external_ref="w1")
    assert response.status_code == 302 and response["Location"].endswith(
        f"/cases/{interaction.case_id}/"
    )
    assert interaction.client == person and "w1.mp3" in interaction.summary
    # Twice is refused with a message, not a second interaction.
    again = client.post(url, {"action": "attach", "subject": "ещё"})
    assert again.status_code == 400 and 'role="alert"' in again.content.decode()
    assert Interaction.objects.filter(external_ref="w1").count() == 1


def test_callback_is_one_click_and_figures_are_for_supervisors(client, pbx, cast):
    pbx.send("ringing", "m1", 0, caller="+79035550012", extension="101")
    pbx.send("hangup", "m1", 25)
    callback = Callback.objects.get()
    client.force_login(cast.alice)
    page = client.get(reverse("telephony:callbacks")).content.decode()
    assert "+79035550012" in page
    response = client.post(reverse("telephony:callback_call", args=[callback.pk]))
    assert response.status_code == 302 and response["Location"] == "tel:+79035550012"
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CALLING and callback.taken_by == cast.alice
    client.post(reverse("telephony:callback_done", args=[callback.pk]))
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE
    assert client.get(reverse("telephony:figures")).status_code == 403
    client.force_login(cast.sam)  # a specialist has no callback list
    assert client.get(reverse("telephony:callbacks")).status_code == 403
    client.force_login(cast.sue)
    figures = client.get(reverse("telephony:figures"))
    assert figures.status_code == 200 and 'id="call-figures"' in figures.content.decode()
