"""The webhook executor: signing, retries with backoff, idempotency, the demo back office."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from otklik.actions import executors
from otklik.actions.models import (
    ActionRun,
    BackofficeCall,
    BackofficeFailure,
    BackofficeOperation,
    CallStatus,
    RunStatus,
)
from otklik.actions.services import action_request, client_flag_set
from otklik.cases.models import Message
from otklik.clients.models import Restriction
from otklik.live.models import LiveEvent

SECRET = "test-backoffice-secret"


class FlakyBackoffice:
    """A local back office that fails the first `fail_first` requests, then does each key once."""

    def __init__(self, fail_first: int = 2):
        self.fail_first = fail_first
        self.requests: list[dict] = []
        self.done: dict[str, str] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ts = self.headers.get("X-Otklik-Timestamp", "")
                expected = (
                    "sha256="
                    + hmac.new(
                        SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                key = self.headers.get("Idempotency-Key", "")
                owner.requests.append(
                    {"key": key, "signed": self.headers.get("X-Otklik-Signature") == expected}
                )
                if len(owner.requests) <= owner.fail_first:
                    status, answer = 503, {"status": "error"}
                else:
                    owner.done.setdefault(key, f"BO-{len(owner.done) + 1}")
                    status, answer = 200, {"status": "done", "reference": owner.done[key]}
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backoffice"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backoffice_settings(settings):
    settings.OTKLIK_BACKOFFICE_SECRET = SECRET
    settings.OTKLIK_BACKOFFICE_TIMEOUT = 5
    settings.OTKLIK_BACKOFFICE_BACKOFF_SECONDS = 10
    settings.OTKLIK_BACKOFFICE_MAX_ATTEMPTS = 5
    return settings


def _lift(cast, abroad, key="k1"):
    client_flag_set(actor=cast.sam, client=abroad.client)
    return action_request(
        actor=cast.bob,
        case=abroad.chat_case,
        product=abroad.card,
        action_code="lift_fraud_check",
        input={"restriction_id": abroad.fraud.pk},
        channel="chat",
        idempotency_key=key,
    )


def test_retries_with_backoff_until_the_back_office_answers(cast, abroad, backoffice_settings):
    run = _lift(cast, abroad)
    call = BackofficeCall.objects.get()
    t0 = timezone.now()
    with FlakyBackoffice(fail_first=2) as office:
        backoffice_settings.OTKLIK_BACKOFFICE_URL = office.url
        assert executors.deliver(call.pk, now=t0) == CallStatus.FAILED
        call.refresh_from_db()
        first_wait = call.next_attempt_at - t0
        assert timedelta(seconds=10) <= first_wait <= timedelta(seconds=12.5)
        # Not due yet: the scan leaves it alone.
        assert executors.deliver_due(now=t0 + timedelta(seconds=5)) == {}
        t1 = call.next_attempt_at
        assert executors.deliver_due(now=t1) == {CallStatus.FAILED: 1}
        call.refresh_from_db()
        assert call.next_attempt_at - t1 >= timedelta(seconds=40)  # ×4
        assert executors.deliver_due(now=call.next_attempt_at) == {CallStatus.DONE: 1}
        # Done is final: nothing is sent again.
        assert executors.deliver_due(now=call.next_attempt_at + timedelta(days=1)) == {}
    assert len(office.requests) == 3 and all(r["signed"] for r in office.requests)
    assert len(office.done) == 1
    assert {r["key"] for r in office.requests} == {call.key}
    call.refresh_from_db()
    assert call.status == CallStatus.DONE and call.attempts == 3
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.result["reference"] == "BO-1"
    assert Restriction.objects.get(pk=abroad.fraud.pk).lifted_at is not None
    assert Restriction.objects.get(pk=abroad.fraud.pk).lifted_by == cast.bob
    assert LiveEvent.objects.filter(user=cast.bob, kind="action.done").exists()
    # The case history: one entry for the action (requested, then done), in Russian, by bob;
    # no duplicate system note, no English kind, the channel in words in «Последние действия».
    assert not Message.objects.filter(case=abroad.chat_case, author_kind="system").exists()
    http = HttpClient()
    http.force_login(cast.bob)
    page = http.get(reverse("workspace:case_detail", args=[abroad.chat_case.pk])).content.decode()
    timeline = page[page.index('id="timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    lift = [li for li in timeline.split("<li") if "проверку правомерности" in li]
    assert len(lift) == 1 and "Действие оператора" in lift[0] and "BO-1" in lift[0]
    assert cast.bob.display_name in lift[0]
    assert "BO-1" in timeline and "Operator action" not in page
    assert "запрошено" not in timeline
    runs = http.get(reverse("actions:case_runs", args=[abroad.chat_case.pk])).content.decode()
    assert "Последние действия" in runs and "· chat" not in runs and "· Чат" in runs


def test_gives_up_after_max_attempts_and_fails_the_run(cast, abroad, backoffice_settings):
    backoffice_settings.OTKLIK_BACKOFFICE_MAX_ATTEMPTS = 2
    run = _lift(cast, abroad)
    now = timezone.now()
    with FlakyBackoffice(fail_first=99) as office:
        backoffice_settings.OTKLIK_BACKOFFICE_URL = office.url
        executors.deliver_due(now=now)
        executors.deliver_due(now=now + timedelta(hours=1))
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert BackofficeCall.objects.get().status == CallStatus.DEAD
    assert Restriction.objects.get(pk=abroad.fraud.pk).lifted_at is None


def test_unreachable_back_office_is_a_retry_not_a_crash(cast, abroad, backoffice_settings):
    backoffice_settings.OTKLIK_BACKOFFICE_URL = "http://127.0.0.1:9/nothing"
    _lift(cast, abroad)
    assert executors.deliver_due() == {CallStatus.FAILED: 1}
    assert "unreachable" in BackofficeCall.objects.get().last_error


def _signed(body: bytes, *, secret=SECRET, ts=None):
    ts = str(int(time.time())) if ts is None else ts
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "X-Otklik-Timestamp": ts,
        "X-Otklik-Signature": "sha256=" + mac,
        "Idempotency-Key": "key-1",
    }


def test_demo_back_office_checks_signature_and_window(db, backoffice_settings):
    http = HttpClient()
    url = reverse("actions:demo_backoffice")
    body = json.dumps({"operation": "change_tariff", "payload": {}}).encode()
    wrong = http.post(url, body, content_type="application/json", headers=_signed(body, secret="x"))
    assert wrong.status_code == 401
    stale = http.post(
        url,
        body,
        content_type="application/json",
        headers=_signed(body, ts=str(int(time.time()) - 3600)),
    )
    assert stale.status_code == 401
    tampered = http.post(url, body + b" ", content_type="application/json", headers=_signed(body))
    assert tampered.status_code == 401
    assert not BackofficeOperation.objects.exists()
    ok = http.post(url, body, content_type="application/json", headers=_signed(body))
    assert ok.status_code == 200 and ok.json()["status"] == "done"
    again = http.post(url, body, content_type="application/json", headers=_signed(body))
    assert again.json() == {**ok.json(), "replayed": True}
    assert BackofficeOperation.objects.count() == 1


def test_demo_back_office_refuses_unknown_operations(db, backoffice_settings):
    body = json.dumps({"operation": "launch_rocket", "payload": {}}).encode()
    response = HttpClient().post(
        reverse("actions:demo_backoffice"),
        body,
        content_type="application/json",
        headers=_signed(body),
    )
    assert response.status_code == 422 and response.json()["status"] == "refused"


@pytest.mark.django_db(transaction=True)
def test_end_to_end_through_the_real_demo_back_office(live_server, backoffice_settings):
    """The real endpoint over HTTP, told to fail twice: retried, done once, restriction lifted."""
    from otklik.accounts.models import Role
    from otklik.actions.demo import load_demo_actions
    from otklik.cases.services import interaction_register
    from otklik.clients.services import client_create, product_create, restriction_place
    from otklik.common.luhn import luhn_complete
    from tests.factories import DepartmentFactory, TeamFactory, UserFactory

    load_demo_actions()
    team = TeamFactory(name="Чат банка")
    operator = UserFactory(username="bob", role=Role.OPERATOR, team=team)
    client = client_create(last_name="Лебедева", first_name="Наталья", phones=["+79216358217"])
    card = product_create(
        client=client,
        kind="card",
        name="Карта",
        status="blocked",
        details={
            "pan": luhn_complete("220015000000000"),
            "payment_system": "Мир",
            "level": "Классическая",
            "expires": "09/28",
        },
    )
    foreign = restriction_place(product=card, kind="foreign_operations")
    DepartmentFactory(code="security", name="СБ")
    case = interaction_register(
        actor=operator, client=client, channel="chat", new_case_subject="Карта"
    ).case
    BackofficeFailure.objects.create(operation="lift_restriction", remaining=2)
    backoffice_settings.OTKLIK_BACKOFFICE_URL = live_server.url + "/actions/demo-backoffice/"
    run = action_request(
        actor=operator,
        case=case,
        product=card,
        action_code="lift_foreign_operations",
        input={"restriction_id": foreign.pk},
        channel="chat",
        idempotency_key="e2e",
    )
    now = timezone.now()
    for step in range(6):
        executors.deliver_due(now=now + timedelta(hours=step))
    call = BackofficeCall.objects.get()
    assert call.status == CallStatus.DONE and call.attempts == 3
    assert BackofficeOperation.objects.count() == 1
    assert BackofficeOperation.objects.get().key == call.key
    run = ActionRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.SUCCEEDED
    assert run.result["reference"] == BackofficeOperation.objects.get().reference
    foreign.refresh_from_db()
    assert foreign.lifted_at is not None
    card.refresh_from_db()
    assert card.status == "active"  # the last block is gone


def test_execute_step_contract_is_idempotent(cast, abroad, backoffice_settings):
    first = executors.execute_step(
        run_key="order-1-step-1", executor="webhook", payload={"operation": "change_tariff"}
    )
    again = executors.execute_step(
        run_key="order-1-step-1", executor="webhook", payload={"operation": "change_tariff"}
    )
    assert first.status == again.status == "pending"
    assert BackofficeCall.objects.filter(key="order-1-step-1").count() == 1
    handed = executors.execute_step(
        run_key="order-1-step-2",
        executor="handoff:security",
        payload={"question": "Проверьте документы клиента"},
        case=abroad.chat_case,
        actor=cast.bob,
    )
    assert handed.status == "handed_off" and handed.result["handoff_id"]
    assert executors.step_status("order-1-step-2") == handed
    assert executors.step_status("nope") is None
    assert settings.OTKLIK_BACKOFFICE_SECRET == SECRET
