"""Resumption after the worker is killed mid-step.

A real worker (`manage.py run_worker`, see tests/jobs/test_worker.py) runs a signed
order's workflow. The test hook makes it sleep inside `close_contract` after the back
office got the call; the worker is SIGKILLed there. A new worker takes the step over when
its lease ends, calls the back office again with the same idempotency key (the back office
acts on it once) and finishes the workflow: every step done exactly once.
"""

import os
import signal
import sqlite3

import pytest
from django.conf import settings as django_settings
from django.db import connection

from otklik.orders.catalogue import order_templates_ensure
from tests.factories import UserFactory, make_case
from tests.jobs.test_worker import WorkerDatabase, Workers, _wait
from tests.notifications.receiver import WebhookReceiver
from tests.orders.conftest import make_story_client
from tests.orders.helpers import signed_order

LEASE_SECONDS = 3


def _row(database: WorkerDatabase, sql: str, params: list):
    if database.vendor == "sqlite":
        with sqlite3.connect(database.file) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchone()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_the_workflow_resumes_after_the_worker_is_killed_mid_step(settings, tmp_path):
    var_dir = tmp_path / "var"
    settings.MEDIA_ROOT = var_dir / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    order_templates_ensure()
    olga = UserFactory(username="olga-w", role="senior_operator")
    client, _iis = make_story_client(frozen=False)
    case = make_case(actor=olga, client=client, subject="Закрыть ИИС")
    with WebhookReceiver(secret="bo-secret") as back_office:
        order = signed_order(olga, case)
        database = WorkerDatabase(tmp_path)
        env = {
            **os.environ,
            "DATABASE_URL": database.publish(),
            "OTKLIK_TASKS_BACKEND": "db",
            "OTKLIK_VAR_DIR": str(var_dir),
            "OTKLIK_ORDERS_BACK_OFFICE": "webhook",
            "OTKLIK_BACKOFFICE_URL": back_office.url,
            "OTKLIK_BACKOFFICE_SECRET": "bo-secret",
            "OTKLIK_ORDERS_STEP_LEASE_SECONDS": str(LEASE_SECONDS),
            "PYTHONUNBUFFERED": "1",
        }
        if django_settings.REDIS_URL:
            env["REDIS_URL"] = django_settings.REDIS_URL
        (tmp_path / "first").mkdir()
        (tmp_path / "second").mkdir()
        first = Workers(
            {**env, "OTKLIK_ORDERS_TEST_PAUSE_IN_STEP": "close_contract:120"}, tmp_path / "first"
        )
        second = Workers(env, tmp_path / "second")
        step_1 = f"order-{order.pk}-step-1"
        step_sql = "SELECT status, attempts FROM orders_orderstep WHERE order_id = %s AND seq = %s"
        try:
            worker = first.start()
            _wait(lambda: step_1 in back_office.processed, what="the back office got the call")
            assert _row(database, step_sql, [order.pk, 1])[0] == "running"
            worker.send_signal(signal.SIGKILL)  # killed inside the step, before "done"
            worker.wait(10)
            assert _row(database, step_sql, [order.pk, 1]) == ("running", 1)

            second.start()
            _wait(
                lambda: (
                    _row(database, "SELECT status FROM orders_order WHERE id = %s", [order.pk])[0]
                    == "completed"
                ),
                timeout=60,
                what="the workflow to finish",
            )
        except AssertionError:
            print(first.logs(), second.logs())
            raise
        finally:
            first.stop_all()
            second.stop_all()
        assert _row(database, step_sql, [order.pk, 1]) == ("done", 2)
        for seq in range(2, 6):
            assert _row(database, step_sql, [order.pk, seq]) == ("done", 1)
        # The back office heard step 1 twice (same key) and acted on each key once.
        assert back_office.keys()[step_1] == 2
        assert sorted(back_office.processed) == sorted([step_1, f"order-{order.pk}-step-5"])
        assert _row(
            database,
            "SELECT COUNT(*) FROM orders_orderdocument WHERE order_id = %s AND kind = %s",
            [order.pk, "closure_notice"],
        ) == (1,)
