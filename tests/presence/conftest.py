"""Each test gets its own presence key space (Redis keeps entries between runs)."""

import uuid

import pytest

from otklik.presence.store import get_store, reset_store


@pytest.fixture(autouse=True)
def _private_presence_store(settings):
    settings.OTKLIK_PRESENCE_PREFIX = f"otklik-test-presence:{uuid.uuid4().hex[:10]}"
    reset_store()
    yield
    get_store().clear()
    reset_store()
