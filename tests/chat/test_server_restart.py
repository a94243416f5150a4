"""A real ASGI server (daphne) is killed between messages and started again.

The visitor client behaves like the widget: an outbox of unacknowledged messages resent with
the same client ids after each reconnect, and catch-up "after the last seq seen". After two
SIGKILLs the visitor has every message exactly once, in order, and the server stored each
visitor message once.
"""

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

websockets = pytest.importorskip("websockets")

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url(tmp_path: Path) -> str:
    """The server process must see this test's database: PostgreSQL by name, SQLite by a
    file copy of the (in-memory) migrated test database."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        target = tmp_path / "chat.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(target) as dest:
            connection.connection.backup(dest)
        return f"sqlite:///{target}"
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


class Server:
    def __init__(self, port: int, database_url: str):
        self.port, self.database_url, self.process = port, database_url, None

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": settings.REDIS_URL or "",
            "OTKLIK_TASKS_BACKEND": "dummy",
            "PYTHONPATH": str(ROOT / "src"),
            "LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
             "otklik.asgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def _http(port: int, method: str, path: str, token: str = "", body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=json.dumps(body or {}).encode() if method == "POST" else None,
        headers={"Content-Type": "application/json", "X-Chat-Token": token},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


async def _visitor_run(server: Server, conversation: int, token: str, total: int, kill_after):
    port = server.port
    url = f"ws://127.0.0.1:{port}/ws/chat/{conversation}/"
    origin = f"http://127.0.0.1:{port}"
    outbox = [(f"r-{i}", f"сообщение {i}") for i in range(total)]
    seen: list[int] = []
    sent = 0
    while outbox:
        try:
            async with websockets.connect(url, origin=origin, open_timeout=5) as ws:
                await ws.send(json.dumps(
                    {"type": "hello", "token": token, "after_seq": seen[-1] if seen else 0}
                ))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if frame["type"] == "message":
                        seen.append(frame["message"]["seq"])
                    elif frame["type"] == "ready":
                        break
                for client_id, body in list(outbox):  # resend everything unacknowledged
                    await ws.send(json.dumps(
                        {"type": "message", "client_msg_id": client_id, "body": body}
                    ))
                    sent += 1
                    if sent in kill_after:
                        server.kill()  # mid-stream: the ack may or may not have left
                        server.start()
                        raise ConnectionError("killed")
                    while True:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        if frame["type"] == "message":
                            seen.append(frame["message"]["seq"])
                        elif frame["type"] == "ack" and frame["client_msg_id"] == client_id:
                            outbox.remove((client_id, body))
                            break
        except (ConnectionError, OSError, websockets.ConnectionClosed, TimeoutError):
            await asyncio.sleep(0.2)
    # A final reconnect picks up anything still in flight.
    async with websockets.connect(url, origin=origin) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "after_seq": seen[-1]}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if frame["type"] == "message":
                seen.append(frame["message"]["seq"])
            elif frame["type"] == "ready":
                break
    return seen


def test_server_killed_between_messages_loses_and_duplicates_nothing(tmp_path):
    server = Server(_free_port(), _database_url(tmp_path))
    server.start()
    try:
        started = _http(server.port, "POST", "/chat/api/start/")
        conversation, token = started["conversation"], started["token"]
        # Hand off first, so the rest is plain chat (the bot is tested elsewhere).
        _http(server.port, "POST", f"/chat/api/{conversation}/messages/", token,
              {"client_msg_id": "h-0", "body": "позовите оператора"})
        seen = asyncio.run(_visitor_run(server, conversation, token, total=12, kill_after={4, 9}))
        stored = _http(server.port, "GET", f"/chat/api/{conversation}/poll/?after_seq=0", token)
    finally:
        server.kill()
    stored_seqs = [m["seq"] for m in stored["messages"]]
    assert seen == stored_seqs  # zero loss, zero duplicates, order kept
    ids = [m["client_msg_id"] for m in stored["messages"] if m["sender"] == "visitor"]
    assert sorted(ids) == sorted(["h-0", *(f"r-{i}" for i in range(12))])  # each stored once
