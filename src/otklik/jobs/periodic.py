"""Periodic scans run by the worker: the outbox due-scan, SLA deadlines, housekeeping.

Each scan is a plain function taking an optional `now`, listed with its interval in
`settings.OTKLIK_PERIODIC_SCANS`. Scans must be safe to run in several workers at once
(they claim rows with conditional UPDATEs), so no leader election is needed.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# When each scan last finished without an error in this process (wall-clock seconds),
# and its consecutive failures: the worker's heartbeat (otklik.ops.heartbeat) publishes
# them so health checks and metrics in other processes can see how far behind scans are.
LAST_OK: dict[str, float] = {}
FAILURES: dict[str, int] = {}


@dataclass
class PeriodicScan:
    path: str
    every: float
    func: Callable | None = None
    next_run: float = 0.0
    missing: bool = False
    failures: int = field(default=0)

    def resolve(self) -> Callable | None:
        if self.func is None and not self.missing:
            try:
                self.func = import_string(self.path)
            except ImportError:
                # Another app's scan that is not written yet (or was removed): skip it.
                self.missing = True
                logger.warning("Periodic scan %s is not available; skipping it", self.path)
        return self.func


def configured_scans() -> list[PeriodicScan]:
    return [
        PeriodicScan(path=path, every=float(every))
        for path, every in settings.OTKLIK_PERIODIC_SCANS
    ]


class Scheduler:
    """Calls each due scan; `run_pending` is one tick, `loop` ticks until stopped."""

    def __init__(self, scans: list[PeriodicScan] | None = None, tick: float = 1.0):
        self.scans = configured_scans() if scans is None else scans
        self.tick = tick
        self.stop_event = threading.Event()

    def run_pending(self, clock: Callable[[], float] = time.monotonic) -> list[str]:
        ran = []
        for scan in self.scans:
            if clock() < scan.next_run:
                continue
            func = scan.resolve()
            if func is None:
                continue
            close_old_connections()
            try:
                func()
                scan.failures = 0
                LAST_OK[scan.path] = time.time()
            except Exception:
                scan.failures += 1
                logger.exception("Periodic scan %s failed", scan.path)
            finally:
                FAILURES[scan.path] = scan.failures
                close_old_connections()
            scan.next_run = clock() + scan.every
            ran.append(scan.path)
        return ran

    def loop(self) -> None:
        logger.info("Periodic scans: %s", ", ".join(s.path for s in self.scans))
        while not self.stop_event.is_set():
            self.run_pending()
            self.stop_event.wait(self.tick)

    def stop(self) -> None:
        self.stop_event.set()


def run_scans_once() -> list[str]:
    """Run every configured scan once (for `run_worker --scan-once` and tests)."""
    return Scheduler().run_pending()
