"""A real daphne process of the project on loopback, sharing the test's database."""

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

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(tmp_path: Path) -> str:
    """The server must see this test's data: PostgreSQL by name, SQLite by a file copy of
    the (in-memory) test database taken now — set the data up before calling this."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
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
    def __init__(self, database_url: str, port: int | None = None, extra_env: dict | None = None):
        self.port = port or free_port()
        self.database_url = database_url
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = os.environ.get("OTKLIK_TEST_SERVER_LOG", "")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": settings.REDIS_URL or "",
            "OTKLIK_TASKS_BACKEND": "dummy",
            "PYTHONPATH": str(ROOT / "src"),
            "LOG_LEVEL": "WARNING",
            # Its widget limits count in Redis across test runs; tests/chat/test_limits.py
            # checks the limits themselves.
            "OTKLIK_CHAT_STARTS_PER_ADDRESS": "100000",
            "OTKLIK_CHAT_MESSAGES_PER_MINUTE": "100000",
            **self.extra_env,
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "otklik.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL,  # noqa: SIM115
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
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            if self.database_url.startswith("postgres"):
                time.sleep(0.5)  # let PostgreSQL notice the dead session before teardown

    def http(self, method: str, path: str, token: str = "", body: dict | None = None) -> dict:
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.url + path,
            method=method,
            data=json.dumps(body or {}).encode() if method == "POST" else None,
            headers={"Content-Type": "application/json", "X-Chat-Token": token},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())
