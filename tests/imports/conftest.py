import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_messages():
    """The reports are asserted in English; Russian is checked by tests/common/test_locales."""
    with translation.override("en"):
        yield
