"""The real worker process: `manage.py run_worker` against a real database (and Redis).

The worker is started as a subprocess on the test database (PostgreSQL: the test
database itself; SQLite: a copy of the in-memory test database written to a file). It
delivers a queued notification; then it is SIGKILLed in the middle of a send, restarted,
and the message is still acted on exactly once (re-sent with the same idempotency key
after the lease, deduplicated by the receiver; the row ends `sent` and stays so).
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from otklik.notifications.services import notify
from otklik.notifications.tasks import deliver_outbox
from tests.notifications.receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 4
BACKENDS = ["db"] + (["redis"] if django_settings.REDIS_URL else [])


def _wait(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class WorkerDatabase:
    """The database the subprocess uses, and raw reads from the test process."""

    def __init__(self, tmp_path: Path):
        self.vendor = connection.vendor
        self.file = tmp_path / "worker.sqlite3"

    def publish(self) -> str:
        """Make the test's committed data visible to the worker; return its DATABASE_URL."""
        if self.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(self.file) as target:
                connection.connection.backup(target)
            return f"sqlite:///{self.file}"
        s = connection.settings_dict
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"

    def outbox(self, key: str) -> tuple[str, int]:
        sql = "SELECT status, attempts FROM notifications_outbox WHERE key = %s"
        if self.vendor == "sqlite":
            with sqlite3.connect(self.file) as conn:
                return conn.execute(sql.replace("%s", "?"), [key]).fetchone()
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            return cursor.fetchone()


class Workers:
    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.log_dir / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_worker",
                "--interval",
                "0.2",
                "--scan-interval",
                "0.5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


@pytest.fixture
def receiver():
    with WebhookReceiver(secret="worker-secret") as r:
        yield r


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", BACKENDS)
def test_worker_delivers_and_survives_sigkill_mid_send(backend, receiver, settings, tmp_path):
    prefix = f"otklik-test-{uuid.uuid4().hex[:8]}"
    if backend == "redis":
        settings.TASKS = {
            "default": {
                "BACKEND": "otklik.jobs.backends.RQBackend",
                "OPTIONS": {"URL": django_settings.REDIS_URL, "PREFIX": prefix},
            }
        }
    else:
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    # Two notifications queued as jobs; the gateway will "hang" on the second one.
    receiver.hang_keys.add("crash-me")
    for key in ("plain", "crash-me"):
        row = notify(key=key, channel="sms", address="+79001112233", body=f"text {key}")
        deliver_outbox.enqueue(row.pk)

    database = WorkerDatabase(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": database.publish(),
        "OTKLIK_TASKS_BACKEND": backend,
        "OTKLIK_TASKS_REDIS_PREFIX": prefix,
        "OTKLIK_SMS_WEBHOOK_URL": receiver.url,
        "OTKLIK_WEBHOOK_SECRET": "worker-secret",
        "OTKLIK_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "PYTHONUNBUFFERED": "1",
    }
    if django_settings.REDIS_URL:
        env["REDIS_URL"] = django_settings.REDIS_URL
    workers = Workers(env, tmp_path)
    try:
        first = workers.start()
        _wait(lambda: database.outbox("plain")[0] == "sent", what="first delivery")
        _wait(receiver.hanging.is_set, what="the hanging send")
        # The gateway has the message; the worker dies before it can mark the row sent.
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        receiver.release.set()
        assert database.outbox("crash-me")[0] == "sending"

        workers.start()
        _wait(lambda: database.outbox("crash-me")[0] == "sent", what="redelivery")
        time.sleep(1.0)  # a few more scan ticks: nothing is sent again
        assert database.outbox("crash-me") == ("sent", 2)
        assert database.outbox("plain") == ("sent", 1)
        assert receiver.keys() == {"plain": 1, "crash-me": 2}
        assert sorted(receiver.processed) == ["crash-me", "plain"]  # each acted on once
        assert all(r["signed"] for r in receiver.requests)
    except AssertionError:
        print(workers.logs())
        raise
    finally:
        workers.stop_all()
    assert all(p.returncode is not None for p in workers.procs)


def test_worker_console_is_quiet_by_default(caplog):
    """`make run`'s console: no line per task (the scans queue some every second)."""
    import logging

    from otklik.jobs.management.commands.run_worker import configure_logging

    tasks = logging.getLogger("django.tasks")
    try:
        configure_logging(1)
        with caplog.at_level(logging.NOTSET):
            tasks.info("Task id=1 path=x state=SUCCESSFUL")
            tasks.warning("Task id=2 failed")
            logging.getLogger("otklik.jobs").info("Database queue worker started")
        messages = [r.getMessage() for r in caplog.records]
        assert "Task id=1 path=x state=SUCCESSFUL" not in messages
        assert "Task id=2 failed" in messages and "Database queue worker started" in messages
        caplog.clear()
        configure_logging(2)
        tasks.info("Task id=3 state=SUCCESSFUL")
        assert "Task id=3 state=SUCCESSFUL" in [r.getMessage() for r in caplog.records]
    finally:
        tasks.setLevel(logging.NOTSET)
        logging.getLogger("django_tasks_db").setLevel(logging.NOTSET)
