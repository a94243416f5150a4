import pytest

from otklik.knowledge import services
from otklik.knowledge.services import seed_procedures

IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def index_jobs_run_now(request, settings, monkeypatch):
    """Index jobs run in-process (immediate backend) as soon as they are requested.

    pytest's `db` tests run inside a transaction that never commits, so after-commit work
    would never happen; we enqueue at once instead. Tests marked `real_on_commit` keep the
    real after-commit behaviour (see test_index_jobs.py).
    """
    settings.TASKS = IMMEDIATE_TASKS
    if "real_on_commit" not in request.keywords:
        monkeypatch.setattr(
            services,
            "search_index_update_later",
            lambda *, article_id: services._enqueue_reindex(article_id),
        )


@pytest.fixture
def kb(db):
    """The bundled procedures, published and indexed."""
    seed_procedures()
