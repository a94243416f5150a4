"""The Prometheus endpoint: who may read it, and that its figures follow the data."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from otklik.jobs import periodic
from otklik.notifications.models import Outbox, OutboxStatus
from otklik.ops import heartbeat
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def _value(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name + (("{" + labels + "}") if labels else "")) + r" ([0-9.e+-]+)"
    match = re.search(pattern, text)
    assert match, f"{name}{{{labels}}} not in metrics"
    return float(match.group(1))


def test_metrics_are_off_without_a_token_or_network(client, settings):
    settings.OTKLIK_METRICS_TOKEN = ""
    settings.OTKLIK_METRICS_NETWORKS = []
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_right_token(client, settings):
    settings.OTKLIK_METRICS_TOKEN = "s3cret-token"
    settings.OTKLIK_METRICS_NETWORKS = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics").status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_metrics_for_an_allowed_network_only(client, settings):
    settings.OTKLIK_METRICS_TOKEN = ""
    settings.OTKLIK_METRICS_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.5").status_code == 404


def test_metrics_follow_queues_outbox_scans_and_requests(client, settings, cast, monkeypatch):
    settings.OTKLIK_METRICS_TOKEN = "t"
    auth = {"HTTP_AUTHORIZATION": "Bearer t"}
    before = client.get("/metrics", **auth).content.decode()
    new_before = _value(before, "otklik_cases_open", 'status="new"')

    make_case(actor=cast.alice)
    make_case(actor=cast.alice)
    now = timezone.now()
    Outbox.objects.create(
        key="m1",
        channel="sms",
        address="+79120000000",
        body="x",
        status=OutboxStatus.DEAD,
        next_attempt_at=now,
        created_at=now,
    )
    Outbox.objects.create(
        key="m2",
        channel="sms",
        address="+79120000000",
        body="x",
        status=OutboxStatus.PENDING,
        next_attempt_at=now - timedelta(seconds=90),
        created_at=now - timedelta(seconds=90),
    )
    monkeypatch.setitem(periodic.LAST_OK, "otklik.sla.services.scan_deadlines", time.time() - 7)
    heartbeat.beat()
    client.get("/healthz/live")

    text = client.get("/metrics", **auth).content.decode()
    assert _value(text, "otklik_cases_open", 'status="new"') == new_before + 2
    assert _value(text, "otklik_outbox_failures", 'state="dead"') == 1
    assert _value(text, "otklik_outbox_due") >= 1
    assert _value(text, "otklik_outbox_lag_seconds") >= 90
    assert _value(text, "otklik_workers_alive") == 1
    lag = _value(text, "otklik_scan_lag_seconds", 'scan="otklik.sla.services.scan_deadlines"')
    assert 7 <= lag < 60
    assert _value(text, "otklik_chats_open", 'status="queued"') == 0
    assert "otklik_chat_longest_wait_seconds" in text
    assert "otklik_jobs_failed" in text
    assert (
        _value(
            text,
            "otklik_http_request_duration_seconds_count",
            'method="GET",status="200",view="ops:live"',
        )
        >= 1
    )


def test_the_sample_dashboard_only_queries_metrics_the_endpoint_exports(client, settings):
    """Every metric a Grafana panel asks for exists, so the dashboard is not blank."""
    import json
    from pathlib import Path

    settings.OTKLIK_METRICS_TOKEN = "t"
    client.get("/healthz/live")
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    exported = set(re.findall(r"^# TYPE (\w+) ", text, flags=re.M))
    exported |= {f"{n}_bucket" for n in exported} | {f"{n}_count" for n in exported}
    path = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"
    dashboard = json.loads(path.read_text())
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(otklik_\w+)", target["expr"])
    }
    assert asked and asked <= exported, asked - exported
