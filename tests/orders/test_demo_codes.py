"""Issue 16, defect 9: the tester gets the client's codes without the admin, from the shell."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from otklik.orders import services
from otklik.orders.models import OrderStatus
from otklik.portal import services as portal_services

IP = "203.0.113.7"


def _printed_code(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return re.search(r"\b(\d{6})\b", out.getvalue()).group(1)


@pytest.mark.django_db
def test_order_signing_code_command_gives_a_code_that_signs(cast, story_case):
    order = services.order_draft(
        actor=cast.olga, case=story_case, template_code="iis_close_frozen", send=True
    )
    with pytest.raises(CommandError, match=r"(No signing code is waiting|нет ожидающего кода)"):
        call_command("order_signing_code", order.reference, stdout=io.StringIO())
    challenge = services.order_signing_code_request(client=order.client, order=order, ip=IP)
    code = _printed_code("order_signing_code", order.reference)
    services.order_sign(
        client=order.client, order=order, code_id=challenge.code_id, code=code, ip=IP
    )
    order.refresh_from_db()
    assert order.status != OrderStatus.SENT_FOR_SIGNATURE and order.signed_at is not None


@pytest.mark.django_db
def test_portal_login_code_command_needs_a_waiting_login_and_replaces_its_code(igor):
    client, _iis = igor
    phone = client.contacts.get(kind="phone").value
    with pytest.raises(CommandError, match=r"(No login code is waiting|нет ожидающего кода)"):
        call_command("portal_login_code", phone, stdout=io.StringIO())
    challenge = portal_services.portal_code_request(identifier=phone, ip=IP)
    code = _printed_code("portal_login_code", phone)
    assert portal_services.portal_code_verify(code_id=challenge.code_id, code=code, ip=IP) == client
