import pytest

from otklik.knowledge.services import seed_procedures


@pytest.fixture
def kb(db):
    """The bundled procedures, published and indexed."""
    seed_procedures()
