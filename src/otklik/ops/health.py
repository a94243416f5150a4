"""Liveness and readiness: what a load balancer or Kubernetes asks before sending traffic.

Liveness says only that the process answers (no database: a slow database must not get
healthy processes restarted). Readiness checks what a request needs — the database, the
cache, the channel layer — and reports what the system needs to keep its promises: a
worker's heartbeat, the outbox's and the SLA scan's lag. Those three do not take an app
process out of the balancer (it can still serve; a restart would not help), unless asked
with `?strict=1`, which monitoring uses to page someone.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from otklik.ops.models import WorkerHeartbeat

SLA_SCAN = "otklik.sla.services.scan_deadlines"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    ms: float
    critical: bool


def _timed(name: str, critical: bool, func) -> Check:
    started = time.perf_counter()
    try:
        ok, detail = func()
    except Exception as exc:  # a check that raises is a failed check, with its reason
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return Check(name, ok, detail, round((time.perf_counter() - started) * 1000, 2), critical)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, connection.vendor


def _cache():
    key = f"otklik:health:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    value = cache.get(key)
    cache.delete(key)
    return value == "1", settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def _channel_layer():
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return False, "no channel layer configured"

    async def round_trip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=2.0)
        return message.get("type") == "health.ping"

    return async_to_sync(round_trip)(), layer.__class__.__name__


def live_heartbeats(now: datetime) -> list[WorkerHeartbeat]:
    """Heartbeats of workers seen within OTKLIK_HEALTH_WORKER_MAX_AGE seconds."""
    since = now - timedelta(seconds=settings.OTKLIK_HEALTH_WORKER_MAX_AGE)
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=since))


def scan_lag_seconds(beats: list[WorkerHeartbeat], path: str) -> float | None:
    """Seconds since any live worker last finished `path` without an error (None: never)."""
    last = max((b.scans_ok.get(path, 0.0) for b in beats), default=0.0)
    return round(max(0.0, time.time() - last), 3) if last else None


def _workers(now):
    beats = live_heartbeats(now)
    if not beats:
        return False, f"no worker heartbeat in the last {settings.OTKLIK_HEALTH_WORKER_MAX_AGE}s"
    return True, f"{len(beats)} worker(s)"


def _outbox_lag(now):
    from otklik.notifications.models import Outbox, OutboxStatus

    oldest = Outbox.objects.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENDING],
        next_attempt_at__lte=now,
    ).aggregate(oldest=Min("next_attempt_at"))["oldest"]
    lag = (now - oldest).total_seconds() if oldest else 0.0
    return lag <= settings.OTKLIK_HEALTH_OUTBOX_MAX_LAG, f"{lag:.1f}s"


def _sla_scan_lag(now):
    lag = scan_lag_seconds(live_heartbeats(now), SLA_SCAN)
    if lag is None:
        return False, "the SLA scan has not run in any live worker"
    return lag <= settings.OTKLIK_HEALTH_SLA_SCAN_MAX_LAG, f"{lag:.1f}s"


def readiness() -> list[Check]:
    """Every check, critical ones (those that make this process unable to serve) first."""
    now = timezone.now()
    return [
        _timed("database", True, _database),
        _timed("cache", True, _cache),
        _timed("channel_layer", True, _channel_layer),
        _timed("worker", False, lambda: _workers(now)),
        _timed("outbox_lag", False, lambda: _outbox_lag(now)),
        _timed("sla_scan_lag", False, lambda: _sla_scan_lag(now)),
    ]


def is_ready(checks: list[Check], *, strict: bool) -> bool:
    return all(c.ok for c in checks if c.critical or strict)
