"""Messages with a one-time code: masked at rest, full text only sealed until sent."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from otklik.notifications import delivery, sealing
from otklik.notifications.models import OutboxStatus
from otklik.notifications.services import notify

pytestmark = pytest.mark.django_db

CODE = "731946"
TEXT = f"Ваш код для входа в личный кабинет: {CODE}. Никому его не сообщайте."


def _sms(**kwargs):
    return notify(
        key="portal-login-code:1",
        channel="sms",
        address="+79001234567",
        body=TEXT,
        secret=CODE,
        secret_ttl=timedelta(minutes=10),
        **kwargs,
    )


def test_stored_masked_sent_in_full_then_erased(sms_webhook):
    row = _sms()
    row.refresh_from_db()
    assert CODE not in row.body and sealing.MASK in row.body
    assert row.sealed_body and CODE not in row.sealed_body
    assert delivery.deliver(row.pk) == delivery.SENT
    assert sms_webhook.processed["portal-login-code:1"]["body"] == TEXT  # the gateway: full
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.sealed_body == ""
    assert CODE not in row.body


def test_a_code_past_its_lifetime_is_never_sent_and_its_text_is_erased(sms_webhook):
    row = _sms()
    later = timezone.now() + timedelta(minutes=11)
    counts = delivery.deliver_due(later)
    assert counts[delivery.SENT] == 0 and sms_webhook.processed == {}
    row.refresh_from_db()
    assert (row.status, row.sealed_body) == (OutboxStatus.DEAD, "")
    assert "expired" in row.last_error


def test_a_row_that_dies_erases_its_text(sms_webhook, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    sms_webhook.fail_first = 5
    row = _sms()
    assert delivery.deliver(row.pk) == delivery.DEAD
    row.refresh_from_db()
    assert row.sealed_body == "" and CODE not in row.last_error


def test_the_admin_shows_such_a_row_masked(client, sms_webhook):
    from otklik.accounts.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "pass-12345")
    client.force_login(admin)
    row = _sms()
    for url in (
        "/admin/notifications/outbox/",
        f"/admin/notifications/outbox/{row.pk}/change/",
        "/admin/notifications/outbox/?q=portal",
    ):
        page = client.get(url).content.decode()
        assert CODE not in page, url
    assert (
        sealing.MASK in client.get(f"/admin/notifications/outbox/{row.pk}/change/").content.decode()
    )
    assert "sealed_body" not in page


def test_the_development_mail_folder_gets_the_code_masked(settings, tmp_path):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    row = notify(
        key="order-signing-code:9:email",
        channel="email",
        address="client@example.com",
        subject="Код для подписи",
        body=TEXT,
        secret=CODE,
    )
    assert delivery.deliver(row.pk) == delivery.SENT
    written = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "Content-Transfer-Encoding" in written
    decoded = _decoded_mail(tmp_path)
    assert "Ваш код для входа" in decoded and CODE not in decoded and CODE not in written


def test_a_real_mail_server_gets_the_full_text(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    from django.core import mail

    row = notify(
        key="portal-login-code:2", channel="email", address="c@example.com", body=TEXT, secret=CODE
    )
    assert delivery.deliver(row.pk) == delivery.SENT
    assert mail.outbox[-1].body == TEXT


def _decoded_mail(folder) -> str:
    from email import message_from_string

    parts = []
    for path in folder.iterdir():
        for chunk in re.split(r"\n-{79}\n", path.read_text()):
            if chunk.strip():
                message = message_from_string(chunk)
                for part in message.walk():
                    payload = part.get_payload(decode=True)
                    if payload:
                        parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "\n".join(parts)
