"""Liveness and readiness: what a load balancer sees, and that each check can fail."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from otklik.jobs import periodic
from otklik.notifications.models import Outbox, OutboxStatus
from otklik.ops import heartbeat
from otklik.ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_liveness_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_ready_with_a_beating_worker_is_ok(client, monkeypatch):
    monkeypatch.setitem(periodic.LAST_OK, "otklik.sla.services.scan_deadlines", time.time())
    heartbeat.beat()
    body = client.get("/healthz/ready?strict=1").json()
    assert body["status"] == "ok", body
    assert set(body["checks"]) == {
        "database",
        "cache",
        "channel_layer",
        "worker",
        "outbox_lag",
        "sla_scan_lag",
    }
    assert body["checks"]["worker"]["detail"] == "1 worker(s)"


def test_no_worker_degrades_but_keeps_the_process_in_the_balancer(client):
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["sla_scan_lag"]["ok"] is False
    # Monitoring asks strictly and gets the failure.
    assert client.get("/healthz/ready?strict=1").status_code == 503


def test_a_stale_heartbeat_is_not_a_live_worker(client):
    heartbeat.beat(now=timezone.now() - timedelta(minutes=5))
    body = client.get("/healthz/ready").json()
    assert body["checks"]["worker"]["ok"] is False


def test_heartbeats_of_long_gone_workers_are_forgotten():
    WorkerHeartbeat.objects.create(
        worker_id="old-1",
        host="old",
        pid=1,
        started_at=timezone.now() - timedelta(days=3),
        seen_at=timezone.now() - timedelta(days=2),
    )
    heartbeat.beat()
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == [
        heartbeat.worker_id()
    ]


def test_sla_scan_lag_over_the_limit_fails_strict_readiness(client, settings, monkeypatch):
    settings.OTKLIK_HEALTH_SLA_SCAN_MAX_LAG = 60
    monkeypatch.setitem(periodic.LAST_OK, "otklik.sla.services.scan_deadlines", time.time() - 120)
    heartbeat.beat()
    response = client.get("/healthz/ready?strict=1")
    assert response.status_code == 503
    check = response.json()["checks"]["sla_scan_lag"]
    assert check["ok"] is False and float(check["detail"].rstrip("s")) >= 120


def test_outbox_lag_over_the_limit_is_reported(client, settings, monkeypatch):
    settings.OTKLIK_HEALTH_OUTBOX_MAX_LAG = 60
    monkeypatch.setitem(periodic.LAST_OK, "otklik.sla.services.scan_deadlines", time.time())
    heartbeat.beat()
    now = timezone.now()
    Outbox.objects.create(
        key="k1",
        channel="sms",
        address="+79120000000",
        body="x",
        status=OutboxStatus.PENDING,
        next_attempt_at=now - timedelta(minutes=10),
        created_at=now - timedelta(minutes=10),
    )
    body = client.get("/healthz/ready").json()
    assert body["checks"]["outbox_lag"]["ok"] is False
    assert body["status"] == "degraded"


def test_a_broken_database_fails_readiness(client, monkeypatch):
    from otklik.ops import health

    def broken():
        raise ConnectionError("connection refused")

    monkeypatch.setattr(health, "_database", broken)
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert "connection refused" in body["checks"]["database"]["detail"]


def test_a_broken_cache_fails_readiness(client, monkeypatch):
    from django.core import cache as cache_module

    class Broken:
        def set(self, *a, **k):
            raise OSError("redis down")

    monkeypatch.setattr("otklik.ops.health.cache", Broken())
    assert cache_module  # the real cache is untouched
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False
