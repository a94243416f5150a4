"""Several processes, one system (issue 17): two app processes on their own ports and two
workers on PostgreSQL + Redis, as behind a load balancer.

- a client chatting through app 1 and the operator on app 2 see each other's messages live;
- a handoff answered on app 2 reaches its owner's live updates on app 1;
- SIGKILL of one app process and one worker during a run loses nothing and sends nothing
  twice: chat messages, e-mail notifications, SLA breaches.

In-memory layers cannot span processes and SQLite is one machine's file: these run on
PostgreSQL + Redis only (CI's second pass), and skip on the embedded default.
"""

import asyncio
import json
import re
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from otklik.cases.models import CaseEvent, EventKind
from otklik.chat.models import ChatMessage, Conversation, ConversationStatus, new_token
from otklik.handoffs import services as handoffs
from otklik.notifications.models import Outbox, OutboxStatus
from otklik.notifications.services import notify
from otklik.sla.models import Deadline
from tests.chat.server import database_url
from tests.factories import make_case
from tests.ops.topology import Topology, post_form, session_cookie

websockets = pytest.importorskip("websockets")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def topology(tmp_path):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip(
            "several app and worker processes need a shared database and channel layer: "
            "runs on PostgreSQL + Redis (DATABASE_URL, REDIS_URL), as in CI's second pass"
        )
    yield lambda: _start(tmp_path)


_started: list[Topology] = []


def _start(tmp_path) -> Topology:
    topo = Topology(database_url(tmp_path), tmp_path)
    _started.append(topo)
    topo.start()
    return topo


@pytest.fixture(autouse=True)
def _stop_topologies():
    yield
    while _started:
        _started.pop().stop()


def _conversation(operator) -> tuple[Conversation, str]:
    raw, hashed = new_token()
    now = timezone.now()
    conv = Conversation.objects.create(
        visitor_token_hash=hashed,
        status=ConversationStatus.ASSIGNED,
        operator=operator,
        created_at=now,
        queued_at=now,
        assigned_at=now,
    )
    return conv, raw


async def _open(port: int, path: str, cookie: str = ""):
    return await websockets.connect(
        f"ws://127.0.0.1:{port}{path}",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie} if cookie else None,
        open_timeout=20,
        max_queue=None,
    )


async def _hello(ws, token: str = "", after_seq: int = 0) -> None:
    payload = {"type": "hello", "after_seq": after_seq}
    if token:
        payload["token"] = token
    await ws.send(json.dumps(payload))
    await _until(ws, lambda f: f["type"] == "ready")


async def _until(ws, predicate, timeout: float = 20.0) -> dict:
    async def wait():
        while True:
            frame = json.loads(await ws.recv())
            if predicate(frame):
                return frame

    return await asyncio.wait_for(wait(), timeout)


def test_chat_and_handoff_cross_app_processes_live(topology, cast):
    alice, sam = cast.alice, cast.sam
    conv, token = _conversation(alice)
    case = make_case(actor=alice, subject="Карта заблокирована за границей")
    handoff = handoffs.handoff_send(
        actor=alice, case=case, department=cast.security, question="Разблокировать?"
    )
    handoffs.handoff_take(actor=sam, handoff=handoff)
    alice_cookie, sam_cookie = session_cookie(alice), session_cookie(sam)
    topo = topology()
    app1, app2 = topo.ports

    async def scenario():
        visitor = await _open(app1, f"/ws/chat/{conv.pk}/")
        await _hello(visitor, token=token)
        operator = await _open(app2, f"/ws/chat/{conv.pk}/", alice_cookie)
        await _hello(operator)

        await visitor.send(
            json.dumps({"type": "message", "client_msg_id": "v-1", "body": "Карта не работает"})
        )
        seen = await _until(
            operator,
            lambda f: f["type"] == "message" and f["message"].get("client_msg_id") == "v-1",
        )
        assert seen["message"]["body"] == "Карта не работает"

        await operator.send(
            json.dumps({"type": "message", "client_msg_id": "o-1", "body": "Сейчас проверю"})
        )
        reply = await _until(
            visitor,
            lambda f: f["type"] == "message" and f["message"].get("body") == "Сейчас проверю",
        )
        assert reply["message"]["seq"] > seen["message"]["seq"]

        live = await _open(app1, "/ws/live/", alice_cookie)
        await _until(live, lambda f: f["type"] == "hello")
        status = await asyncio.to_thread(
            post_form,
            app2,
            f"/handoffs/{handoff.pk}/",
            f"/handoffs/{handoff.pk}/answer",
            sam_cookie,
            {"answer": "Ограничение снято, пусть клиент повторит оплату."},
        )
        assert status in (302, 303), status
        event = await _until(
            live, lambda f: f["type"] == "event" and f["event"]["case_id"] == case.pk
        )
        assert "handoff" in event["event"]["kind"]
        for ws in (visitor, operator, live):
            await ws.close()

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    except Exception:
        print(topo.logs())
        raise


MESSAGES = 40
NOTES = 30


def test_sigkill_an_app_and_a_worker_under_load_loses_and_repeats_nothing(topology, cast):
    alice = cast.alice
    alice.email = "alice@bank.example"
    alice.save(update_fields=["email"])
    conv, token = _conversation(alice)
    cases = [make_case(actor=alice, subject=f"Срок {i}") for i in range(5)]
    topo = topology()
    app1, app2 = topo.ports
    due = timezone.now() + timedelta(seconds=4)
    # Every running clock of these cases falls due during the run.
    due_count = Deadline.objects.filter(
        case__in=cases, met_at__isnull=True, breached_at__isnull=True
    ).update(due_at=due, warn_at=None)
    assert due_count >= len(cases)

    def queue_notes(first: int, last: int) -> None:
        for i in range(first, last):
            with transaction.atomic():
                notify(
                    key=f"topology-note-{i}",
                    channel="email",
                    address=f"client{i}@example.com",
                    subject=f"topology-note-{i}",
                    body=f"note {i}",
                )

    async def visitor_run(operator_seen: dict) -> None:
        """The widget's behaviour: unacknowledged messages are resent with the same ids
        after a reconnect; when app 1 dies the balancer sends it to app 2."""
        outbox = [f"m-{i}" for i in range(MESSAGES)]
        acked = 0
        port = app1
        killed = False
        while outbox:
            try:
                ws = await _open(port, f"/ws/chat/{conv.pk}/")
                await _hello(ws, token=token)
                for cid in list(outbox):
                    await ws.send(
                        json.dumps({"type": "message", "client_msg_id": cid, "body": cid})
                    )
                    await _until(
                        ws, lambda f, cid=cid: f["type"] == "ack" and f["client_msg_id"] == cid
                    )
                    outbox.remove(cid)
                    acked += 1
                    if acked == 15 and not killed:
                        killed = True
                        # Send the next one and kill app 1 before its answer can come back.
                        nxt = outbox[0]
                        await ws.send(
                            json.dumps({"type": "message", "client_msg_id": nxt, "body": nxt})
                        )
                        await asyncio.to_thread(topo.apps[0].sigkill)
                        raise ConnectionError("app 1 killed")
                await ws.close()
            except (ConnectionError, OSError, websockets.ConnectionClosed, TimeoutError):
                port = app2
                await asyncio.sleep(0.2)

    operator_cookie = session_cookie(alice)

    async def operator_watch(operator_seen: dict) -> None:
        ws = await _open(app2, f"/ws/chat/{conv.pk}/", operator_cookie)
        await _hello(ws)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(operator_seen) < MESSAGES:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            except TimeoutError:
                continue
            if frame["type"] == "message" and str(
                frame["message"].get("client_msg_id", "")
            ).startswith("m-"):
                cid = frame["message"]["client_msg_id"]
                operator_seen[cid] = operator_seen.get(cid, 0) + 1
        await ws.close()

    async def scenario():
        operator_seen: dict[str, int] = {}
        watcher = asyncio.create_task(operator_watch(operator_seen))
        await asyncio.sleep(1.0)
        await asyncio.to_thread(queue_notes, 0, NOTES // 2)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(topo.workers[0].sigkill)
        await asyncio.to_thread(queue_notes, NOTES // 2, NOTES)
        await visitor_run(operator_seen)
        await asyncio.wait_for(watcher, 100)
        return operator_seen

    try:
        operator_seen = asyncio.run(asyncio.wait_for(scenario(), 240))
        # Wait for the surviving worker to deliver and breach everything.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = Outbox.objects.filter(key__startswith="topology-note-").exclude(
                status=OutboxStatus.SENT
            )
            open_clocks = Deadline.objects.filter(
                case__in=cases, met_at__isnull=True, breached_at__isnull=True
            )
            if not pending.exists() and not open_clocks.exists():
                break
            time.sleep(0.5)
    except Exception:
        print(topo.logs())
        raise

    # Chat: every message stored once, seen live once by the operator on app 2.
    stored = list(
        ChatMessage.objects.filter(conversation=conv, client_msg_id__startswith="m-").values_list(
            "client_msg_id", flat=True
        )
    )
    assert sorted(stored) == sorted(f"m-{i}" for i in range(MESSAGES))
    assert operator_seen == {f"m-{i}": 1 for i in range(MESSAGES)}, topo.logs()

    # Notifications: all sent, each e-mail written exactly once.
    assert (
        not Outbox.objects.filter(key__startswith="topology-note-")
        .exclude(status=OutboxStatus.SENT)
        .exists()
    ), topo.logs()
    mail = "".join(p.read_text(errors="replace") for p in topo.mail_dir.iterdir())
    subjects = re.findall(r"^Subject: (topology-note-\d+)$", mail, flags=re.M)
    assert sorted(subjects) == sorted(f"topology-note-{i}" for i in range(NOTES))

    # SLA: every due clock breached, each breach recorded once.
    breached = Deadline.objects.filter(case__in=cases, breached_at__isnull=False).count()
    assert breached == due_count
    events = CaseEvent.objects.filter(case__in=cases, kind=EventKind.SLA_BREACH)
    assert events.count() == due_count
