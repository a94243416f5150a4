"""Deadlines are stored: a scanner killed mid-run loses and repeats nothing on restart.

The scanner runs as a real process against a real database file (SQLite) or a fresh
PostgreSQL database, is SIGKILLed while it holds a claimed, uncommitted row, and is
started again. Every due deadline must end up breached exactly once, with exactly one
history row, one live event per recipient and one e-mail per recipient.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("restart_script.py")
DUE = 12


@pytest.fixture
def database_url(tmp_path):
    """A throw-away database of the same engine the test run uses."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restart.sqlite3'}"
        return
    import psycopg

    params = connection.settings_dict
    name = f"otklik_sla_restart_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    user = params["USER"]
    password = f":{params['PASSWORD']}" if params["PASSWORD"] else ""
    host, port = params["HOST"] or "127.0.0.1", params["PORT"] or 5432
    try:
        yield f"postgres://{user}{password}@{host}:{port}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _env(database_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE") or "otklik.settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), *sys.path]),
        **extra,
    )
    return env


def _run(args, env, timeout=300) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_breaches_survive_a_killed_scanner(database_url):
    env = _env(database_url)
    _run([str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], env)
    _run([str(SCRIPT), "seed", str(DUE)], env)

    # Each row sleeps 0.4 s between its claim and its commit; kill after three commits.
    slow = _env(database_url, OTKLIK_SLA_SCAN_ROW_DELAY="0.4")
    scanner = subprocess.Popen(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "sla_scan", "--once", "--batch", "1", "-v", "2"],
        env=slow,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed = []
    deadline = time.monotonic() + 120
    while len(committed) < 3 and time.monotonic() < deadline:
        line = scanner.stdout.readline()
        if not line:
            break
        if line.startswith("breached"):
            committed.append(int(line.split()[1]))
    time.sleep(0.2)  # inside the next row's claim-to-commit window
    os.kill(scanner.pid, signal.SIGKILL)
    scanner.wait(timeout=30)
    assert scanner.returncode == -signal.SIGKILL
    assert len(committed) == 3, scanner.stderr.read()[-3000:]

    middle = json.loads(_run([str(SCRIPT), "report"], env))
    assert middle["breached"] == 3  # the row claimed when killed was rolled back

    restarted = _run(
        [str(ROOT / "manage.py"), "sla_scan", "--once", "--batch", "5", "-v", "2"], env
    )
    again = [int(line.split()[1]) for line in restarted.split("\n") if line.startswith("breached")]
    assert len(again) == DUE - 3 and not set(again) & set(committed)

    final = json.loads(_run([str(SCRIPT), "report"], env))
    assert final["deadlines"] == DUE
    assert final["breached"] == DUE
    assert final["cases_with_events"] == DUE and final["events_per_case"] == [1] * DUE
    # Recipients: olga (senior operator), sue (supervisor), alice (owner).
    assert final["live_pairs"] == 3 * DUE and final["live_per_deadline_user"] == [1]
    assert final["outbox_per_deadline"] == [3] * DUE

    # A third run finds nothing to do.
    assert "breached" not in _run([str(ROOT / "manage.py"), "sla_scan", "--once", "-v", "2"], env)
