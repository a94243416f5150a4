"""One-time code login: single use, expiry, wrong tries, throttles, nothing in the logs."""

import logging
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.notifications.models import Outbox
from otklik.portal import login_codes as services
from otklik.portal.auth import SESSION_CLIENT
from otklik.portal.models import PortalLoginCode
from tests.codes import sealed_code

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def code_from_outbox(address: str) -> str:
    row = Outbox.objects.filter(address=address, key__startswith="portal-login-code:").latest("id")
    return sealed_code(row)


def test_code_is_sent_by_sms_for_a_phone_and_stored_only_hashed(dmitry):
    challenge = services.portal_code_request(identifier="8 (912) 574-03-61", ip=IP)
    row = Outbox.objects.get(key=f"portal-login-code:{challenge.code_id}")
    assert (row.channel, row.address, row.client_id) == ("sms", "+79125740361", dmitry.pk)
    code = code_from_outbox("+79125740361")
    stored = PortalLoginCode.objects.get(pk=challenge.code_id)
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert challenge.demo_code is None  # demo display is off by default


def test_code_by_email_any_case(dmitry):
    challenge = services.portal_code_request(identifier="D.Sokolov88@Example.com", ip=IP)
    row = Outbox.objects.get(key=f"portal-login-code:{challenge.code_id}")
    assert (row.channel, row.address) == ("email", "d.sokolov88@example.com")
    assert row.subject


def test_code_logs_in_once(dmitry):
    challenge = services.portal_code_request(identifier="+79125740361", ip=IP)
    code = code_from_outbox("+79125740361")
    assert services.portal_code_verify(code_id=challenge.code_id, code=code, ip=IP) == dmitry
    with pytest.raises(services.ServiceError):
        services.portal_code_verify(code_id=challenge.code_id, code=code, ip=IP)


def test_expired_code_is_refused(dmitry):
    challenge = services.portal_code_request(identifier="+79125740361", ip=IP)
    code = code_from_outbox("+79125740361")
    later = timezone.now() + services.CODE_TTL + timedelta(seconds=1)
    with pytest.raises(services.ServiceError) as exc:
        services.portal_code_verify(code_id=challenge.code_id, code=code, ip=IP, now=later)
    assert "code" in exc.value.message_dict


def test_a_new_code_retires_the_old_one(dmitry):
    first = services.portal_code_request(identifier="+79125740361", ip=IP)
    old_code = code_from_outbox("+79125740361")
    services.portal_code_request(identifier="+79125740361", ip=IP)
    with pytest.raises(services.ServiceError):
        services.portal_code_verify(code_id=first.code_id, code=old_code, ip=IP)


def test_too_many_wrong_codes_burn_the_code(dmitry):
    challenge = services.portal_code_request(identifier="+79125740361", ip=IP)
    code = code_from_outbox("+79125740361")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(services.CODE_MAX_ATTEMPTS):
        with pytest.raises(services.ServiceError):
            services.portal_code_verify(code_id=challenge.code_id, code=wrong, ip=IP)
    assert PortalLoginCode.objects.get(pk=challenge.code_id).attempts == services.CODE_MAX_ATTEMPTS
    with pytest.raises(services.ServiceError):  # the right code no longer works either
        services.portal_code_verify(code_id=challenge.code_id, code=code, ip=IP)


def test_requests_are_paced_per_identifier_with_doubling_delays(dmitry):
    now = timezone.now()
    for _ in range(services.CODE_REQUESTS_FREE):
        services.portal_code_request(identifier="+79125740361", ip=IP, now=now)
    with pytest.raises(services.Throttled) as refused:
        services.portal_code_request(identifier="+7 912 574 03 61", ip="198.51.100.1", now=now)
    assert PortalLoginCode.objects.count() == services.CODE_REQUESTS_FREE
    # Proportionate: the next request is possible after 30 s, not 15 minutes.
    base = services.CODE_PACING_BASE_SECONDS
    assert refused.value.retry_at <= now + timedelta(seconds=base + 1)
    later = now + timedelta(seconds=base + 1)
    services.portal_code_request(identifier="+79125740361", ip=IP, now=later)
    with pytest.raises(services.Throttled) as again:  # then twice as long
        services.portal_code_request(identifier="+79125740361", ip=IP, now=later)
    waited = (again.value.retry_at - later).total_seconds()
    assert 2 * base - 1 <= waited <= 2 * base + 1
    services.portal_code_request(
        identifier="+79125740361", ip=IP, now=later + timedelta(seconds=2 * base + 1)
    )
    assert PortalLoginCode.objects.count() == services.CODE_REQUESTS_FREE + 2


def test_the_throttle_message_says_when_to_retry_in_local_time(client, dmitry):
    now = timezone.now()
    for _ in range(services.CODE_REQUESTS_FREE):
        services.portal_code_request(identifier="+79125740361", ip=IP, now=now)
    response = client.post(
        reverse("portal:login"), {"identifier": "+7 912 574-03-61"}, HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Слишком много попыток" in page and "Повторите через" in page
    shown = re.search(r"после (\d\d:\d\d:\d\d)\)", page).group(1)
    retry = now + timedelta(seconds=services.CODE_PACING_BASE_SECONDS)
    # Whole seconds, rounded up: the retry time or the second after it, in Moscow time.
    expected = {f"{timezone.localtime(retry + timedelta(seconds=d)):%H:%M:%S}" for d in (0, 1)}
    assert shown in expected, (shown, expected)


def test_requests_are_throttled_per_client_across_phone_and_email(dmitry):
    for n in range(services.CODE_REQUESTS_FREE):
        ident = "+79125740361" if n % 2 else "d.sokolov88@example.com"
        services.portal_code_request(identifier=ident, ip=f"198.51.100.{n}")
    challenge = services.portal_code_request(identifier="d.sokolov88@example.com", ip="192.0.2.9")
    # The same answer as for a sent code (nothing tells that the client exists), but no code.
    assert challenge.code_id is None
    assert PortalLoginCode.objects.count() == services.CODE_REQUESTS_FREE


def test_requests_are_throttled_per_ip(dmitry, tatiana):
    for n in range(services.CODE_REQUESTS_PER_IP):
        services.portal_code_request(identifier=f"+7900000{n:04d}", ip=IP)
    with pytest.raises(services.Throttled):
        services.portal_code_request(identifier="+79125740361", ip=IP)
    services.portal_code_request(identifier="+79125740361", ip="198.51.100.1")  # other IP ok


def test_wrong_codes_are_throttled_per_ip(dmitry, monkeypatch):
    monkeypatch.setattr(services, "WRONG_CODES_PER_IP", 3)
    for _ in range(3):
        with pytest.raises(services.ServiceError):
            services.portal_code_verify(code_id=None, code="000000", ip=IP)
    challenge = services.portal_code_request(identifier="+79125740361", ip="198.51.100.1")
    code = code_from_outbox("+79125740361")
    with pytest.raises(services.Throttled):
        services.portal_code_verify(code_id=challenge.code_id, code=code, ip=IP)


def test_unknown_phone_gets_the_same_page_and_no_code(client, dmitry):
    known = client.post(reverse("portal:login"), {"identifier": "+7 912 574-03-61"})
    other = client.__class__()
    unknown = other.post(reverse("portal:login"), {"identifier": "+7 999 000-00-00"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("portal:login_code")
    page_known = client.get(reverse("portal:login_code")).content.decode()
    page_unknown = other.get(reverse("portal:login_code")).content.decode()
    strip = lambda html: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)  # noqa: E731
    assert strip(page_known) == strip(page_unknown)
    assert not Outbox.objects.filter(address="+79999990000").exists()
    refused = other.post(reverse("portal:login_code"), {"code": "123456"})
    assert refused.status_code == 422
    assert SESSION_CLIENT not in other.session


def test_malformed_identifier_is_refused_with_a_message(client, db):
    response = client.post(reverse("portal:login"), {"identifier": "12345"})
    assert response.status_code == 422
    assert "identifier-error" in response.content.decode()


def test_full_login_through_pages_and_logout(client, dmitry, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post(reverse("portal:login"), {"identifier": "d.sokolov88@example.com"})
    assert response.status_code == 302
    code = code_from_outbox("d.sokolov88@example.com")
    response = client.post(reverse("portal:login_code"), {"code": f" {code[:3]} {code[3:]} "})
    assert response.status_code == 302 and response["Location"] == reverse("portal:cases")
    assert client.session[SESSION_CLIENT] == dmitry.pk
    assert client.get(reverse("portal:cases")).status_code == 200
    # Deliver the queued message through the real notifiers, as the worker would.
    from otklik.notifications import delivery

    if hasattr(delivery, "deliver_due"):
        delivery.deliver_due()
    client.post(reverse("portal:logout"))
    assert SESSION_CLIENT not in client.session
    assert client.get(reverse("portal:cases")).status_code == 302
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert code not in logged


def test_code_never_appears_in_logs_for_sms(dmitry, caplog, settings):
    caplog.set_level(logging.DEBUG)
    challenge = services.portal_code_request(identifier="+79125740361", ip=IP)
    code = code_from_outbox("+79125740361")
    from otklik.notifications import delivery

    if hasattr(delivery, "deliver"):
        delivery.deliver(Outbox.objects.get(key=f"portal-login-code:{challenge.code_id}").pk)
    with pytest.raises(services.ServiceError):
        services.portal_code_verify(code_id=challenge.code_id, code="999999x", ip=IP)
    services.portal_code_verify(code_id=challenge.code_id, code=code, ip=IP)
    text = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert code not in text


def test_demo_codes_only_with_debug(dmitry, settings):
    settings.OTKLIK_PORTAL_SHOW_CODES = True
    settings.DEBUG = False
    assert services.portal_code_request(identifier="+79125740361", ip=IP).demo_code is None
    settings.DEBUG = True
    challenge = services.portal_code_request(identifier="+79125740361", ip=IP)
    assert challenge.demo_code == code_from_outbox("+79125740361")


def test_staff_login_is_untouched_by_portal_logout(client, cast, dmitry, portal_login):
    client.force_login(cast.alice)
    portal_login(client, dmitry)
    client.post(reverse("portal:logout"))
    assert client.get(reverse("workspace:queue")).status_code == 200
    assert client.get(reverse("portal:cases")).status_code == 302
