"""The workflow after signing: steps in order, retries with backoff, handing off to a
person, waiting for frozen assets, and never running a step twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from otklik.clients.models import ProductStatus
from otklik.handoffs.models import Handoff
from otklik.orders import services
from otklik.orders.models import DocumentKind, OrderStatus, StepStatus
from tests.notifications.receiver import WebhookReceiver
from tests.orders.conftest import pdf_text
from tests.orders.helpers import signed_order


def _states(order):
    return [(s.code, s.status) for s in order.steps.order_by("seq")]


@pytest.fixture
def back_office(settings):
    with WebhookReceiver(secret="bo-secret") as receiver:
        settings.ORDERS_BACK_OFFICE = "webhook"
        settings.OTKLIK_BACKOFFICE_URL = receiver.url
        settings.OTKLIK_BACKOFFICE_SECRET = "bo-secret"
        yield receiver


def test_steps_run_in_order_wait_for_frozen_units_then_pay_out(cast, story_case, igor):
    _client, iis = igor
    order = signed_order(cast.olga, story_case)
    services.workflow_advance(order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    assert _states(order) == [
        ("close_contract", "done"),
        ("generate_closure_notice", "done"),
        ("record_tax_notice", "done"),
        ("keep_frozen_pending", "waiting"),
        ("payout", "pending"),
    ]
    iis.refresh_from_db()
    assert iis.status == ProductStatus.CLOSED and iis.closed_on == timezone.localdate()
    notice = order.documents.get(kind=DocumentKind.CLOSURE_NOTICE)
    text = pdf_text(services.document_read(notice))
    assert "14.03.2019" in text  # opened
    assert timezone.localdate().strftime("%d.%m.%Y") in text  # closed
    assert "ИИС-2019/044718" in text and "Кузнецов Игорь Валерьевич" in text
    # Still frozen: a later run keeps waiting and counts no attempt.
    services.workflow_advance(order.pk, now=timezone.now() + timedelta(minutes=5))
    step = order.steps.get(code="keep_frozen_pending")
    assert step.status == StepStatus.WAITING and step.attempts == 0
    services.fund_units_unfreeze(actor=cast.olga, product=iis)
    services.workflow_scan()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert all(status == "done" for _code, status in _states(order))


def test_a_failing_back_office_step_is_retried_with_backoff(cast, story_case, back_office):
    back_office.fail_first = 2
    t0 = timezone.now()
    order = signed_order(cast.olga, story_case, now=t0)
    services.workflow_advance(order.pk, now=t0)
    step = order.steps.get(seq=1)
    assert step.status == StepStatus.FAILED and step.attempts == 1
    assert "HTTP 500" in step.last_error
    assert timedelta(seconds=30) <= step.next_attempt_at - t0 <= timedelta(seconds=33)
    services.workflow_advance(order.pk, now=t0 + timedelta(seconds=10))  # not due yet
    assert len(back_office.requests) == 1
    services.workflow_advance(order.pk, now=t0 + timedelta(seconds=40))
    step.refresh_from_db()
    assert step.attempts == 2
    assert timedelta(seconds=120) <= step.next_attempt_at - (t0 + timedelta(seconds=40))
    services.workflow_advance(order.pk, now=t0 + timedelta(seconds=40 + 140))
    step.refresh_from_db()
    assert step.status == StepStatus.DONE and step.attempts == 3
    assert back_office.keys() == {f"order-{order.pk}-step-1": 3}
    assert all(r["signed"] for r in back_office.requests)
    assert back_office.requests[0]["body"]["operation"] == "contract.close"


def test_after_n_failures_the_step_is_handed_to_a_person(cast, story_case, back_office, settings):
    settings.ORDERS_STEP_MAX_ATTEMPTS = 2
    back_office.fail_first = 100
    t0 = timezone.now()
    order = signed_order(cast.olga, story_case, now=t0)
    services.workflow_advance(order.pk, now=t0)
    services.workflow_advance(order.pk, now=t0 + timedelta(minutes=5))
    step = order.steps.get(seq=1)
    assert step.status == StepStatus.HANDED_OFF
    handoff = Handoff.objects.get(case=story_case)
    assert handoff.department.code == "back_office"
    assert order.reference in handoff.question
    services.workflow_scan(now=t0 + timedelta(hours=10))
    assert len(back_office.requests) == 2  # a handed-off step is not run again
    services.order_step_resolve(actor=cast.olga, step=step, note="Закрыт вручную в АБС")
    services.workflow_advance(order.pk, now=t0 + timedelta(hours=10))
    assert order.steps.get(seq=2).status == StepStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_advances_run_a_step_once(cast, igor, templates, back_office):
    from tests.factories import make_case

    case = make_case(actor=cast.olga, client=igor[0], subject="ИИС")
    order = signed_order(cast.olga, case)
    start = threading.Barrier(2)
    errors = []

    def worker():
        start.wait()
        try:
            services.workflow_advance(order.pk)
        except Exception as exc:  # pragma: no cover - shown on failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert back_office.keys() == {f"order-{order.pk}-step-1": 1}
    step = order.steps.get(seq=1)
    assert step.status == StepStatus.DONE and step.attempts == 1
    assert order.documents.filter(kind=DocumentKind.CLOSURE_NOTICE).count() == 1
