"""Structured logs: the request line, the request id and where it goes, no personal data."""

import json
import logging

import pytest

from otklik.common.request_context import new_request_id, request_id_var
from otklik.ops.logs import ContextFilter, JsonFormatter

pytestmark = pytest.mark.django_db


def _json_lines(caplog, logger_name):
    formatter, context = JsonFormatter(), ContextFilter()
    lines = []
    for record in caplog.records:
        if record.name == logger_name:
            context.filter(record)
            lines.append(json.loads(formatter.format(record)))
    return lines


def test_the_request_line_has_id_user_view_status_duration_and_no_path(client, cast, caplog):
    client.force_login(cast.alice)
    with caplog.at_level(logging.INFO, logger="otklik.request"):
        response = client.post(
            "/clients/search", {"q": "+7 912 574-03-61"}, HTTP_X_REQUEST_ID="lb-abc-123"
        )
    assert response["X-Request-ID"] == "lb-abc-123"
    (line,) = _json_lines(caplog, "otklik.request")
    assert line["request_id"] == "lb-abc-123"
    assert line["user_id"] == cast.alice.pk
    assert line["view"] == "workspace:client_search"
    assert line["status"] == response.status_code
    assert line["method"] == "POST"
    assert line["duration_ms"] > 0
    # Neither the query (a phone number) nor the path; the time stamp may hold any digits.
    raw = json.dumps({k: v for k, v in line.items() if k != "ts"}, ensure_ascii=False)
    assert "574" not in raw and "03-61" not in raw and "/clients/search" not in raw
    assert cast.alice.username not in raw


def test_a_malformed_incoming_request_id_is_replaced(client):
    response = client.get("/healthz/live", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32
    assert new_request_id("x" * 65) != "x" * 65


def test_a_job_enqueued_by_a_request_is_logged_with_its_request_id(caplog):
    from otklik.notifications.tasks import deliver_outbox

    token = request_id_var.set("req-42")
    try:
        with caplog.at_level(logging.INFO, logger="otklik.jobs.trace"):
            result = deliver_outbox.enqueue(123456)
    finally:
        request_id_var.reset(token)
    lines = _json_lines(caplog, "otklik.jobs.trace")
    enqueued = [line for line in lines if line["msg"].startswith("job enqueued")]
    assert enqueued and enqueued[0]["request_id"] == "req-42"
    assert enqueued[0]["job_id"] == result.id


def test_the_rq_backend_carries_the_request_id_into_the_job(settings):
    """On Redis the job itself stores the id; the worker sets it while the job runs."""
    import uuid

    from otklik.jobs.backends import RQBackend

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (RQ on Redis); runs in CI on PostgreSQL + Redis")
    backend = RQBackend(
        "rqtest",
        {"QUEUES": ["default"], "OPTIONS": {"URL": settings.REDIS_URL, "PREFIX": uuid.uuid4().hex}},
    )
    from otklik.notifications.tasks import deliver_outbox

    token = request_id_var.set("req-rq-7")
    try:
        result = backend.enqueue(deliver_outbox, [1], {})
    finally:
        request_id_var.reset(token)
    job = backend.rq_queue("default").fetch_job(result.id)
    assert job.meta["request_id"] == "req-rq-7"
    backend.rq_queue("default").empty()
