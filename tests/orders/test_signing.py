"""Signing an order with a one-time code: every wrong way signs nothing; the right one
freezes the document hash, stores a signed PDF and starts the workflow."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.common.errors import ServiceError
from otklik.notifications.models import Outbox
from otklik.orders import services
from otklik.orders.models import OrderSigningCode, OrderStatus, OrderStep
from tests.codes import sealed_code
from tests.orders.conftest import make_story_client, pdf_text, portal_login_as

IP = "203.0.113.7"


@pytest.fixture
def sent_order(cast, story_case):
    return services.order_draft(
        actor=cast.olga, case=story_case, template_code="iis_close_frozen", send=True
    )


def _code(challenge) -> str:
    return sealed_code(Outbox.objects.get(key=f"order-signing-code:{challenge.code_id}"))


def _request(order, now=None):
    challenge = services.order_signing_code_request(
        client=order.client, order=order, ip=IP, now=now
    )
    return challenge, _code(challenge)


def _sign(order, code_id, code, now=None):
    return services.order_sign(
        client=order.client, order=order, code_id=code_id, code=code, ip=IP, now=now
    )


def _unsigned(order):
    order.refresh_from_db()
    assert order.status == OrderStatus.SENT_FOR_SIGNATURE
    assert order.signed_at is None and order.document_hash == ""
    assert not OrderStep.objects.filter(order=order).exists()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_the_code_goes_by_sms_and_is_stored_only_as_a_hash(sent_order):
    challenge, code = _request(sent_order)
    row = OrderSigningCode.objects.get(pk=challenge.code_id)
    assert challenge.channel == "sms" and challenge.address_hint.endswith("1735")
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert sent_order.reference in Outbox.objects.get(key=f"order-signing-code:{row.pk}").body


def test_a_wrong_code_is_refused_and_counted(sent_order):
    challenge, code = _request(sent_order)
    with pytest.raises(ServiceError, match="Осталось попыток: 4"):
        _sign(sent_order, challenge.code_id, _wrong(code))
    assert OrderSigningCode.objects.get(pk=challenge.code_id).attempts == 1
    _unsigned(sent_order)


def test_an_expired_code_is_refused(sent_order):
    now = timezone.now()
    challenge, code = _request(sent_order, now=now)
    with pytest.raises(ServiceError, match="Срок действия кода истёк"):
        _sign(sent_order, challenge.code_id, code, now=now + timedelta(minutes=11))
    _unsigned(sent_order)


def test_too_many_wrong_attempts_burn_the_code(sent_order):
    challenge, code = _request(sent_order)
    for _i in range(services.CODE_MAX_ATTEMPTS):
        with pytest.raises(ServiceError):
            _sign(sent_order, challenge.code_id, _wrong(code))
    with pytest.raises(ServiceError, match="Слишком много неверных попыток"):
        _sign(sent_order, challenge.code_id, code)  # even the right code is now refused
    _unsigned(sent_order)


def test_a_new_code_retires_the_old_one(sent_order):
    first, first_code = _request(sent_order)
    _request(sent_order)
    with pytest.raises(ServiceError, match="Срок действия кода истёк"):
        _sign(sent_order, first.code_id, first_code)
    _unsigned(sent_order)


def test_a_code_of_another_order_does_not_sign_this_one(cast, sent_order, story_case):
    other = services.order_draft(
        actor=cast.olga, case=story_case, template_code="iis_close_frozen", send=True
    )
    challenge, code = _request(other)
    with pytest.raises(ServiceError):
        _sign(sent_order, challenge.code_id, code)
    _unsigned(sent_order)
    _unsigned(other)


def test_another_clients_order_cannot_be_signed(cast, sent_order, client):
    stranger, _iis = make_story_client(last_name="Петров", phone="+7 916 000-11-22")
    challenge, code = _request(sent_order)
    with pytest.raises(ServiceError):
        services.order_sign(
            client=stranger, order=sent_order, code_id=challenge.code_id, code=code, ip=IP
        )
    portal_login_as(client, stranger)
    assert client.post(reverse("orders:portal_code", args=[sent_order.pk])).status_code == 404
    assert (
        client.post(reverse("orders:portal_sign", args=[sent_order.pk]), {"code": code}).status_code
        == 404
    )
    _unsigned(sent_order)


def test_signing_freezes_the_hash_stores_a_signed_pdf_and_creates_the_steps(
    sent_order, django_capture_on_commit_callbacks
):
    challenge, code = _request(sent_order)
    with django_capture_on_commit_callbacks() as callbacks:
        order = _sign(sent_order, challenge.code_id, code)
    assert callbacks  # the workflow is kicked after the commit
    assert order.status == OrderStatus.SIGNED
    assert order.document_hash == order.document.sha256
    assert order.signature_code_id == challenge.code_id
    assert order.signer_ip == IP and order.signed_at is not None
    signed = order.signed_document
    assert services.document_read(signed)  # the hash verifies
    text = pdf_text(services.document_read(signed))
    assert order.document_hash in text.replace(" ", "")
    assert IP in text and "Кузнецов Игорь Валерьевич" in text and str(challenge.code_id) in text
    assert [s.code for s in order.steps.order_by("seq")] == [
        "close_contract",
        "generate_closure_notice",
        "record_tax_notice",
        "keep_frozen_pending",
        "payout",
    ]
    # The code is single use.
    with pytest.raises(ServiceError):
        _sign(order, challenge.code_id, code)


def test_a_reused_code_is_refused_on_a_fresh_order(cast, story_case, sent_order):
    challenge, code = _request(sent_order)
    _sign(sent_order, challenge.code_id, code)
    OrderSigningCode.objects.filter(pk=challenge.code_id).update(
        expires_at=timezone.now() + timedelta(minutes=5)
    )
    again = services.order_draft(
        actor=cast.olga, case=story_case, template_code="iis_close_frozen", send=True
    )
    with pytest.raises(ServiceError):
        _sign(again, challenge.code_id, code)
    _unsigned(again)


def test_signing_in_the_portal(sent_order, client, settings):
    portal_login_as(client, sent_order.client)
    url = reverse("orders:portal_detail", args=[sent_order.pk])
    page = client.get(url).content.decode()
    assert "ИИС-2019/044718" in page and 'id="sign-request-code"' in page
    client.post(reverse("orders:portal_code", args=[sent_order.pk]))
    row = OrderSigningCode.objects.get(order=sent_order)
    code = sealed_code(Outbox.objects.get(key=f"order-signing-code:{row.pk}"))
    bad = client.post(reverse("orders:portal_sign", args=[sent_order.pk]), {"code": "000000"})
    if code != "000000":
        assert bad.status_code == 422 and "sign-error" in bad.content.decode()
    ok = client.post(reverse("orders:portal_sign", args=[sent_order.pk]), {"code": code})
    assert ok.status_code == 302
    sent_order.refresh_from_db()
    assert sent_order.status == OrderStatus.SIGNED
    assert 'id="order-signed"' in client.get(url).content.decode()


def test_the_workspace_is_told_when_the_client_signs(cast, sent_order):
    from otklik.live.models import LiveEvent

    challenge, code = _request(sent_order)
    _sign(sent_order, challenge.code_id, code)
    assert LiveEvent.objects.filter(user=cast.olga, kind="order.signed").exists()
