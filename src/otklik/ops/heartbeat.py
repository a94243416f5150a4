"""The worker's heartbeat: a periodic scan that says "this worker is alive" in the database.

Listed in `settings.OTKLIK_PERIODIC_SCANS`, so it runs in the worker's scan thread; if that
thread (or the whole worker) stops, the row stops moving and readiness reports it.
"""

import os
import socket
import time
from datetime import datetime, timedelta

from django.utils import timezone

from otklik.jobs import periodic
from otklik.ops.models import WorkerHeartbeat

_STARTED_AT = timezone.now()
FORGET_AFTER = timedelta(days=1)


def worker_id() -> str:
    """Host and process id: unique among the processes running now."""
    return f"{socket.gethostname()}-{os.getpid()}"


def beat(now: datetime | None = None) -> None:
    """Record this worker's heartbeat and its scans' last successful runs."""
    now = now or timezone.now()
    # A scan's LAST_OK is set after it returns; the heartbeat itself is running now.
    scans_ok = dict(periodic.LAST_OK)
    scans_ok["otklik.ops.heartbeat.beat"] = time.time()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id(),
        defaults={
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": _STARTED_AT,
            "seen_at": now,
            "scans_ok": scans_ok,
            "scan_failures": dict(periodic.FAILURES),
        },
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()
