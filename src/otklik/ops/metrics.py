"""Prometheus metrics: request latency by view (per process) and the system's state.

Request latency is measured in each app process. Under a multi-process server set
PROMETHEUS_MULTIPROC_DIR (an empty directory per start; `make serve` does) so every
worker's samples are summed into one answer. The state gauges (queues, outbox, SLA
scans, chats, jobs) are read from the database at scrape time, so any app process
reports the same figures and a scrape costs a few indexed counts.
"""

import os
import time

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUEST_REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_LATENCY = Histogram(
    "otklik_http_request_duration_seconds",
    "Time to answer an HTTP request, by view, method and status.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REQUEST_REGISTRY,
)

SLA_SCAN = "otklik.sla.services.scan_deadlines"
OUTBOX_SCAN = "otklik.notifications.delivery.deliver_due"


def observe_request(*, view: str, method: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(view=view, method=method, status=str(status)).observe(seconds)


class StateCollector:
    """Reads the state of the whole system from the database when Prometheus scrapes."""

    def collect(self):
        from otklik.ops import health

        now = timezone.now()
        yield from _cases(now)
        yield from _outbox(now)
        yield from _chats(now)
        yield from _jobs()
        beats = health.live_heartbeats(now)
        workers = GaugeMetricFamily(
            "otklik_workers_alive", "Worker processes with a recent heartbeat."
        )
        workers.add_metric([], len(beats))
        yield workers
        lag = GaugeMetricFamily(
            "otklik_scan_lag_seconds",
            "Seconds since a periodic scan last ran without an error in any live worker.",
            labels=["scan"],
        )
        failures = GaugeMetricFamily(
            "otklik_scan_failures",
            "Consecutive failures of a periodic scan (the worst live worker).",
            labels=["scan"],
        )
        for path in {p for p, _every in settings.OTKLIK_PERIODIC_SCANS}:
            seconds = health.scan_lag_seconds(beats, path)
            if seconds is not None:
                lag.add_metric([path], seconds)
            worst = max((b.scan_failures.get(path, 0) for b in beats), default=0)
            failures.add_metric([path], worst)
        yield lag
        yield failures


def _cases(now):
    from otklik.cases.models import OPEN_STATUSES, Case

    gauge = GaugeMetricFamily(
        "otklik_cases_open", "Open cases by status (the queues' sizes).", labels=["status"]
    )
    rows = (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["status"]: row["n"] for row in rows}
    for status in OPEN_STATUSES:
        gauge.add_metric([str(status)], counts.get(status, 0))
    yield gauge


def _outbox(now):
    from otklik.notifications.models import Outbox, OutboxStatus

    waiting = Outbox.objects.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENDING]
    )
    due = waiting.filter(next_attempt_at__lte=now).aggregate(
        n=Count("id"), oldest=Min("next_attempt_at")
    )
    pending = GaugeMetricFamily("otklik_outbox_due", "Notifications due and not yet sent.")
    pending.add_metric([], due["n"])
    yield pending
    lag = GaugeMetricFamily(
        "otklik_outbox_lag_seconds", "How long the oldest due notification has waited."
    )
    lag.add_metric([], (now - due["oldest"]).total_seconds() if due["oldest"] else 0.0)
    yield lag
    failed = GaugeMetricFamily(
        "otklik_outbox_failures",
        "Notifications that failed: retrying (failed) or given up (dead).",
        labels=["state"],
    )
    counts = Outbox.objects.filter(status__in=[OutboxStatus.FAILED, OutboxStatus.DEAD]).aggregate(
        failed=Count("id", filter=Q(status=OutboxStatus.FAILED)),
        dead=Count("id", filter=Q(status=OutboxStatus.DEAD)),
    )
    failed.add_metric(["failed"], counts["failed"])
    failed.add_metric(["dead"], counts["dead"])
    yield failed


def _chats(now):
    from otklik.chat.models import Conversation, ConversationStatus

    gauge = GaugeMetricFamily("otklik_chats_open", "Open chats by status.", labels=["status"])
    rows = (
        Conversation.objects.exclude(status=ConversationStatus.CLOSED)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["status"]: row["n"] for row in rows}
    for status in (ConversationStatus.BOT, ConversationStatus.QUEUED, ConversationStatus.ASSIGNED):
        gauge.add_metric([str(status)], counts.get(status, 0))
    yield gauge
    oldest = Conversation.objects.filter(status=ConversationStatus.QUEUED).aggregate(
        oldest=Min("queued_at")
    )["oldest"]
    waiting = GaugeMetricFamily(
        "otklik_chat_longest_wait_seconds", "How long the longest-waiting chat has waited."
    )
    waiting.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
    yield waiting


def _jobs():
    queued = GaugeMetricFamily("otklik_jobs_queued", "Background jobs waiting to run.")
    failed = GaugeMetricFamily("otklik_jobs_failed", "Background jobs that failed (kept).")
    if settings.TASKS_BACKEND_NAME == "db":
        from django.tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        counts = DBTaskResult.objects.aggregate(
            ready=Count("id", filter=Q(status=TaskResultStatus.READY)),
            failed=Count("id", filter=Q(status=TaskResultStatus.FAILED)),
        )
        queued.add_metric([], counts["ready"])
        failed.add_metric([], counts["failed"])
    elif settings.TASKS_BACKEND_NAME == "redis":
        from django.tasks import task_backends

        backend = task_backends["default"]
        queues = backend.rq_queues()
        queued.add_metric([], sum(q.count for q in queues))
        failed.add_metric([], sum(q.failed_job_registry.count for q in queues))
    yield queued
    yield failed


def render() -> bytes:
    """The text exposition of every metric, for one scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests = CollectorRegistry()
        MultiProcessCollector(requests)
    else:
        requests = REQUEST_REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    started = time.perf_counter()
    body = generate_latest(requests) + generate_latest(state)
    took = time.perf_counter() - started
    return body + f"# scrape took {took:.4f}s\n".encode()
