"""Shortcuts for workflow tests: an order signed by the client."""

from otklik.notifications.models import Outbox
from otklik.orders import services
from tests.codes import sealed_code


def signed_order(actor, case, *, now=None, template_code="iis_close_frozen"):
    order = services.order_draft(
        actor=actor, case=case, template_code=template_code, send=True, now=now
    )
    challenge = services.order_signing_code_request(
        client=order.client, order=order, ip="203.0.113.7", now=now
    )
    code = sealed_code(Outbox.objects.get(key=f"order-signing-code:{challenge.code_id}"))
    return services.order_sign(
        client=order.client,
        order=order,
        code_id=challenge.code_id,
        code=code,
        ip="203.0.113.7",
        now=now,
    )
