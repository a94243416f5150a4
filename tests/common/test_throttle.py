"""Throttles: one count for all processes (Redis or the database), windows, pacing, lockout."""

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from otklik.common import throttle
from otklik.common.throttle import AttemptCounter, Lockout, Pacing

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
import django
django.setup()
from otklik.common.throttle import AttemptCounter, Lockout
kind, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "counter":
    c = AttemptCounter(prefix=prefix, namespace="test", window_seconds=3600)
    print(json.dumps([c.hit("scope", "203.0.113.9") for _ in range(n)]))
else:
    lock = Lockout(prefix=prefix, namespace="test", limit=5, period_seconds=600)
    print(json.dumps([str(lock.fail("scope", "alice")) for _ in range(n)]))
"""


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _in_another_process(kind: str, prefix: str, n: int) -> list:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "otklik.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "OTKLIK_THROTTLE_STORE": settings.OTKLIK_THROTTLE_STORE,
        "PYTHONPATH": str(ROOT / "src"),
    }
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", CHILD, kind, prefix, str(n)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_two_processes_share_one_count():
    prefix = f"test-shared:{uuid.uuid4().hex}"
    here = AttemptCounter(prefix=prefix, namespace="test", window_seconds=3600)
    assert [here.hit("scope", "203.0.113.9") for _ in range(3)] == [1, 2, 3]
    assert _in_another_process("counter", prefix, 3) == [4, 5, 6]
    assert here.hit("scope", "203.0.113.9") == 7


@pytest.mark.django_db(transaction=True)
def test_a_lockout_reached_in_another_process_holds_here():
    prefix = f"test-shared:{uuid.uuid4().hex}"
    here = Lockout(prefix=prefix, namespace="test", limit=5, period_seconds=600)
    assert here.fail("scope", "alice") is None
    assert _in_another_process("lockout", prefix, 3) == ["None", "None", "None"]
    assert here.locked_until("scope", "alice") is None
    assert here.fail("scope", "alice") is not None  # the fifth failure over two processes
    assert here.locked_until("scope", "alice") is not None


def test_the_store_is_never_process_memory():
    expected = throttle._RedisStore if settings.REDIS_URL else throttle._DatabaseStore
    assert isinstance(throttle.store(), expected)


@pytest.mark.django_db
def test_windows_are_aligned_and_say_when_they_end():
    counter = AttemptCounter(prefix=f"t:{uuid.uuid4().hex}", namespace="t", window_seconds=900)
    now = timezone.now()
    verdicts = [counter.check("s", "x", 2, now=now) for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    end = verdicts[2].retry_at
    assert now < end <= now + timedelta(seconds=900) and int(end.timestamp()) % 900 == 0
    assert counter.check("s", "x", 2, now=end).allowed  # a new window


@pytest.mark.django_db
def test_pacing_doubles_the_delay_and_forgets_after_a_quiet_hour():
    pacing = Pacing(
        prefix=f"t:{uuid.uuid4().hex}",
        namespace="t",
        free=2,
        base_seconds=30,
        max_seconds=120,
        reset_seconds=3600,
    )
    now = timezone.now()
    assert pacing.check("s", "x", now=now).allowed
    assert pacing.check("s", "x", now=now).allowed
    waits = []
    t = now
    for _ in range(4):
        refused = pacing.check("s", "x", now=t)
        assert not refused.allowed
        waits.append(round((refused.retry_at - t).total_seconds()))
        t = refused.retry_at
        assert pacing.check("s", "x", now=t).allowed
    # Doubling, capped (whole seconds: the first wait is rounded up from a fractional now).
    assert all(abs(w - e) <= 1 for w, e in zip(waits, [30, 60, 120, 120], strict=True)), waits
    assert pacing.check("s", "x", now=t + timedelta(hours=2)).allowed


@pytest.mark.django_db
def test_expired_counters_are_pruned_from_the_database(settings):
    settings.OTKLIK_THROTTLE_STORE = "db"
    from otklik.common.models import ThrottleCounter

    counter = AttemptCounter(prefix="t-prune", namespace="t", window_seconds=60)
    now = timezone.now()
    counter.hit("s", "x", now=now)
    end = counter.window_end(now=now)
    assert throttle.prune_expired(end - timedelta(seconds=1)) == 0
    assert throttle.prune_expired(end) == 1
    assert not ThrottleCounter.objects.exists()
