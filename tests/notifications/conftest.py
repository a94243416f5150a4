import pytest

from tests.notifications.receiver import WebhookReceiver

SECRET = "test-webhook-secret"


@pytest.fixture
def receiver():
    with WebhookReceiver(secret=SECRET) as r:
        yield r


@pytest.fixture
def sms_webhook(settings, receiver):
    """SMS goes to the local receiver, signed; retries start at 30 s."""
    settings.NOTIFIERS = {**settings.NOTIFIERS, "sms": {"BACKEND": "webhook", "URL": receiver.url}}
    settings.WEBHOOK_SECRET = SECRET
    settings.WEBHOOK_TIMEOUT = 5
    settings.OUTBOX_BACKOFF_SECONDS = 30
    settings.OUTBOX_MAX_ATTEMPTS = 4
    return receiver


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
