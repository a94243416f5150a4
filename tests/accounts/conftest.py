import uuid

import pytest


@pytest.fixture(autouse=True)
def _fresh_login_throttles(settings):
    """Login counters live in the shared store (Redis in CI): a key space per test."""
    settings.OTKLIK_LOGIN_THROTTLE_PREFIX = f"test-login:{uuid.uuid4().hex}"
