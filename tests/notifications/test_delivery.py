"""Outbox delivery: claim with a lease, send once, retry with backoff, give up visibly."""

import logging
import socket
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils import timezone

from otklik.notifications import delivery
from otklik.notifications.models import Outbox, OutboxStatus
from otklik.notifications.notifiers import WebhookNotifier, mask_address, message_id_for
from otklik.notifications.services import notify, outbox_retry_now

pytestmark = pytest.mark.django_db


def _sms(key="case-7-answer-sms", body="Ваш код 4321"):
    return notify(key=key, channel="sms", address="+79001234567", body=body, subject="")


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def test_email_goes_through_a_real_smtp_server(settings):
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": smtp_port, "timeout": 10},
            }
        }
        row = notify(
            key="portal-answer-1",
            channel="email",
            address="client@example.com",
            subject="Ответ по обращению",
            body="Здравствуйте! Мы ответили.",
        )
        assert delivery.deliver(row.pk) == delivery.SENT
        assert delivery.deliver(row.pk) == delivery.SKIPPED  # a sent row is never resent
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["client@example.com"]
    raw = envelope.content.decode()
    assert message_id_for("portal-answer-1") in raw  # the receiver can dedupe by Message-ID
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 1, "")
    assert row.sent_at is not None


def test_webhook_failing_twice_is_retried_with_backoff_then_delivered_once(sms_webhook):
    sms_webhook.fail_first = 2
    row = _sms()
    now = timezone.now()

    assert delivery.deliver(row.pk, now=now) == delivery.FAILED
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and row.attempts == 1
    assert row.last_error == "DeliveryError: webhook answered HTTP 500"
    assert now + timedelta(seconds=30) <= row.next_attempt_at <= now + timedelta(seconds=37.5)
    # Not due yet: neither a direct call nor the scan sends it.
    assert delivery.deliver(row.pk, now=now + timedelta(seconds=29)) == delivery.SKIPPED
    assert delivery.deliver_due(now + timedelta(seconds=29))[delivery.FAILED] == 0

    later = now + timedelta(seconds=40)
    assert delivery.deliver_due(later)[delivery.FAILED] == 1
    row.refresh_from_db()
    assert row.attempts == 2
    assert later + timedelta(minutes=2) <= row.next_attempt_at <= later + timedelta(minutes=2.5)

    assert delivery.deliver_due(later + timedelta(minutes=3))[delivery.SENT] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 3, "")
    assert delivery.deliver_due(later + timedelta(days=1)) == {
        "sent": 0,
        "failed": 0,
        "dead": 0,
        "skipped": 0,
    }
    assert len(sms_webhook.requests) == 3
    assert all(r["signed"] for r in sms_webhook.requests)
    assert set(sms_webhook.processed) == {"case-7-answer-sms"}
    assert sms_webhook.processed["case-7-answer-sms"]["body"] == "Ваш код 4321"


def test_gives_up_after_max_attempts_and_retry_now_revives(sms_webhook, admin_client):
    sms_webhook.fail_first = 100
    row = _sms()
    now = timezone.now()
    results = [delivery.deliver(row.pk, now=now + timedelta(days=i)) for i in range(5)]
    assert results == ["failed", "failed", "failed", "dead", "skipped"]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 4)
    assert "HTTP 500" in row.last_error

    # Visible to an administrator, with the reason.
    page = admin_client.get("/admin/notifications/outbox/", {"status__exact": "dead"})
    assert page.status_code == 200
    assert "webhook answered HTTP 500" in page.content.decode()

    sms_webhook.fail_first = 0
    response = admin_client.post(
        "/admin/notifications/outbox/",
        {"action": "retry_now", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert delivery.deliver_due()[delivery.SENT] == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert outbox_retry_now(outbox_ids=[row.pk]) == 0  # sent stays sent


def test_redelivery_after_a_crash_between_send_and_mark_sent_is_deduplicated(sms_webhook, settings):
    """The worker sent, then died before marking the row sent: at-least-once + key."""
    row = _sms(key="crash-1")
    now = timezone.now()
    assert delivery.claim(row.pk, now=now)
    WebhookNotifier(sms_webhook.url, secret=settings.WEBHOOK_SECRET).send(
        Outbox.objects.get(pk=row.pk)
    )
    # ...the process dies here. The row stays "sending" under its lease:
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENDING
    assert delivery.deliver_due(now + timedelta(seconds=10))[delivery.SENT] == 0

    after_lease = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    assert delivery.deliver_due(after_lease)[delivery.SENT] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    assert sms_webhook.keys() == {"crash-1": 2}  # delivered twice...
    assert list(sms_webhook.processed) == ["crash-1"]  # ...acted on once


def test_a_stale_worker_cannot_overwrite_a_newer_attempt(sms_webhook, settings):
    row = _sms()
    now = timezone.now()
    assert delivery.claim(row.pk, now=now)  # worker A, then A stalls past its lease
    later = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    assert delivery.deliver(row.pk, now=later) == delivery.SENT  # worker B takes over
    # A wakes up and tries to record a failure for its (old) attempt: nothing changes.
    Outbox.objects.filter(pk=row.pk, status=OutboxStatus.SENDING, attempts=1).update(
        status=OutboxStatus.FAILED
    )
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_of_one_row_send_once(sms_webhook):
    row = _sms(key="concurrent-1")
    start = threading.Barrier(2)
    results = []

    def worker():
        start.wait()
        try:
            results.append(delivery.deliver(row.pk))
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) == ["sent", "skipped"]
    assert sms_webhook.keys() == {"concurrent-1": 1}


def test_notify_is_delivered_by_a_job_after_commit(
    sms_webhook, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = _sms(key="fast-path")
        assert sms_webhook.requests == []  # nothing leaves before the commit
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert sms_webhook.keys() == {"fast-path": 1}


def test_a_broken_queue_does_not_break_the_caller(settings, django_capture_on_commit_callbacks):
    settings.TASKS = {
        "default": {
            "BACKEND": "otklik.jobs.backends.RQBackend",
            "OPTIONS": {"URL": "redis://127.0.0.1:1/0"},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        row = _sms(key="queue-down")
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING  # the periodic scan will send it
    assert delivery.deliver_due()[delivery.SENT] == 1


def test_email_channel_with_djangos_mail_backend():
    row = notify(key="e-1", channel="email", address="a@example.com", body="Текст", subject="Тема")
    assert delivery.deliver(row.pk) == delivery.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == message_id_for("e-1")


def test_logging_notifier_never_logs_the_text(caplog):
    row = _sms(body="Ваш код 987654")
    with caplog.at_level(logging.INFO, logger="otklik.notifications"):
        assert delivery.deliver(row.pk) == delivery.SENT
    logged = caplog.text
    assert "987654" not in logged
    assert "+79001234567" not in logged
    assert "4567" in logged and f"id={row.pk}" in logged


def test_mask_address():
    assert mask_address("client@example.com") == "c***@example.com"
    assert mask_address("+79001234567") == "********4567"
    assert mask_address("123") == "***"
