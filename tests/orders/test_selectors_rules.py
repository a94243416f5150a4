"""orders.selectors: staff see the orders of cases they may see, a client only their own
orders once sent, and every other id is simply not found."""

import pytest
from django.http import Http404

from otklik.orders import services
from otklik.orders.models import DocumentKind, Order, OrderDocument, OrderStatus, OrderTemplate
from otklik.orders.selectors import (
    case_orders,
    client_order_status,
    client_step_status,
    closure_notice,
    order_document_get,
    order_get_for_user,
    order_step_get_for_user,
    order_templates,
    portal_document_get,
    portal_order_get,
    portal_orders,
    portal_orders_to_sign,
)
from tests.factories import make_case
from tests.orders.conftest import make_story_client
from tests.orders.helpers import signed_order

pytestmark = pytest.mark.django_db


def _order(cast, case, *, send=True):
    return services.order_draft(
        actor=cast.olga, case=case, template_code="iis_close_frozen", send=send
    )


@pytest.fixture
def other_case(cast, templates):
    client, _iis = make_story_client(last_name="Петров", phone="+7 916 111-22-33")
    return make_case(actor=cast.olga, client=client, subject="Закрыть ИИС")


def test_staff_see_the_orders_of_cases_they_may_see_only(cast, story_case):
    order = signed_order(cast.olga, story_case)
    step = order.steps.order_by("seq").first()
    assert step is not None
    for user in (cast.olga, cast.alice, cast.sue):
        assert order_get_for_user(user=user, order_id=order.pk) == order
        assert order_step_get_for_user(user=user, step_id=step.pk) == step
    for user in (cast.bob, cast.sam, cast.pavel):
        with pytest.raises(Http404):
            order_get_for_user(user=user, order_id=order.pk)
        with pytest.raises(Http404):
            order_step_get_for_user(user=user, step_id=step.pk)
    with pytest.raises(Http404):
        order_get_for_user(user=cast.sue, order_id=order.pk + 1000)


def test_a_cases_orders_are_its_own_newest_first(cast, story_case, other_case):
    first = _order(cast, story_case, send=False)
    services.order_cancel(actor=cast.olga, order=first)
    second = _order(cast, story_case, send=False)
    _order(cast, other_case, send=False)
    assert case_orders(case=story_case) == [second, first]


def test_a_document_is_found_only_under_its_own_order(cast, story_case, other_case):
    order = _order(cast, story_case)
    other = _order(cast, other_case)
    document = order.document
    assert order_document_get(order=order, document_id=document.pk) == document
    with pytest.raises(Http404):
        order_document_get(order=other, document_id=document.pk)


def test_only_active_templates_are_offered(cast, templates):
    codes = [t.code for t in order_templates()]
    assert "iis_close_frozen" in codes
    OrderTemplate.objects.filter(code="iis_close_frozen").update(is_active=False)
    assert "iis_close_frozen" not in [t.code for t in order_templates()]


def test_a_client_sees_their_own_orders_once_sent(cast, story_case, other_case):
    client = story_case.client
    draft = _order(cast, story_case, send=False)
    sent = _order(cast, story_case)
    theirs = _order(cast, other_case)

    assert portal_orders(client=client) == [sent]
    assert portal_orders_to_sign(client=client) == 1
    assert portal_orders_to_sign(client=other_case.client) == 1
    assert portal_order_get(client=client, order_id=sent.pk) == sent
    for order_id in (draft.pk, theirs.pk, sent.pk + 1000):
        with pytest.raises(Http404):
            portal_order_get(client=client, order_id=order_id)

    # A draft that somehow carries a portal status but was never sent stays hidden.
    Order.objects.filter(pk=draft.pk).update(status=OrderStatus.SENT_FOR_SIGNATURE)
    assert portal_orders(client=client) == [sent]
    with pytest.raises(Http404):
        portal_order_get(client=client, order_id=draft.pk)


def test_a_client_gets_the_order_its_signed_copy_and_the_notice_only(cast, story_case):
    order = _order(cast, story_case)
    document = order.document
    assert portal_document_get(order=order, document_id=document.pk) == document
    OrderDocument.objects.filter(pk=document.pk).update(kind="internal")
    with pytest.raises(Http404):
        portal_document_get(order=order, document_id=document.pk)
    assert closure_notice(Order.objects.get(pk=order.pk)) is None


def test_statuses_in_the_clients_words():
    assert client_order_status(OrderStatus.SENT_FOR_SIGNATURE) == "Ждёт вашей подписи"
    assert client_order_status(OrderStatus.CANCELLED) == "Отозвано"
    assert client_order_status("draft") == "draft"
    assert client_step_status("pending") == "Далее"
    assert client_step_status("handed_off") == "Выполняет специалист"
    assert client_step_status("odd") == "odd"
    assert DocumentKind.CLOSURE_NOTICE == "closure_notice"
