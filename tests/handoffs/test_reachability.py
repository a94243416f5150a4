"""Reachability on a case and the live channel the client is on now."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from otklik.audit.models import AuditRecord
from otklik.cases.models import CaseEvent, EventKind
from otklik.cases.services import interaction_register
from otklik.clients.models import ChannelKind, Reachability
from otklik.common.errors import ServiceError
from otklik.handoffs import services
from otklik.handoffs.selectors import client_live_channel, live_channel_label
from otklik.live.models import LiveEvent
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
ABROAD = "за границей: входящие с коротких номеров не проходят"


def test_specialist_records_reachability_on_a_handed_case(staff, case, client_abroad):
    services.handoff_send(actor=staff.alice, case=case, department=staff.security, question="?")
    phone = client_abroad.contacts.get(kind=ChannelKind.PHONE)
    services.case_contact_set_reachability(
        actor=staff.sam, case=case, contact=phone, reachability=Reachability.LIMITED, note=ABROAD
    )
    phone.refresh_from_db()
    assert (phone.reachability, phone.reachability_note) == (Reachability.LIMITED, ABROAD)
    event = CaseEvent.objects.get(case=case, field="reachability")
    assert event.kind == EventKind.FIELD_CHANGED and ABROAD in event.new_value
    assert event.actor == staff.sam
    assert AuditRecord.objects.filter(actor=staff.sam, action="contact.reachability").exists()
    assert LiveEvent.objects.filter(user=staff.alice, kind="case.reachability").exists()


def test_reachability_refused_without_sight_of_the_case_or_for_another_client(staff, case):
    phone = case.client.contacts.first()
    with pytest.raises(ServiceError):  # tom's department has no handoff on this case
        services.case_contact_set_reachability(
            actor=staff.tom, case=case, contact=phone, reachability=Reachability.UNREACHABLE
        )
    stranger = ClientFactory().contacts.first()
    with pytest.raises(ServiceError):
        services.case_contact_set_reachability(
            actor=staff.alice, case=case, contact=stranger, reachability=Reachability.LIMITED
        )


def test_live_channel_is_the_open_interaction(staff, case, client_abroad):
    start = timezone.now().replace(hour=14, minute=2, second=0, microsecond=0)
    start = timezone.make_aware(start.replace(tzinfo=None)) if timezone.is_naive(start) else start
    assert client_live_channel(client=client_abroad) is None
    chat = interaction_register(
        actor=staff.alice, client=client_abroad, channel=ChannelKind.CHAT, case=case, now=start
    )
    ended = interaction_register(
        actor=staff.olga, client=client_abroad, channel=ChannelKind.PHONE, case=case, now=start
    )
    ended.ended_at = start + timedelta(minutes=1)
    ended.save()
    now = start + timedelta(minutes=30)
    live = client_live_channel(client=client_abroad, now=now)
    assert live == chat
    staff.alice.first_name, staff.alice.last_name = "Ирина", "Смирнова"
    live.operator = staff.alice
    local = timezone.localtime(chat.started_at).strftime("%H:%M")
    with translation.override("ru"):
        label = live_channel_label(live, now=now)
    assert label == f"в чате с оператором Ирина Смирнова с {local}"
    # a chat nobody closed for half a day is not live any more
    assert client_live_channel(client=client_abroad, now=start + timedelta(hours=13)) is None
