"""Several processes, one system: app servers (gunicorn + uvicorn) and workers on loopback,
sharing this test's PostgreSQL database and Redis."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(user) -> str:
    """A signed-in session for `user`, as the login view would leave it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class Process:
    """One process of the topology, started with the shared environment."""

    def __init__(self, name: str, cmd: list[str], env: dict, log_dir: Path):
        self.name, self.cmd, self.env = name, cmd, env
        self.log = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"),  # noqa: SIM115
            start_new_session=True,
        )
        return self

    def sigkill(self) -> None:
        """SIGKILL the whole process group (gunicorn's master and its worker alike)."""
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.sigkill()


class Topology:
    """Two app processes on their own ports and two workers."""

    def __init__(self, database_url: str, tmp: Path):
        self.tmp = tmp
        self.mail_dir = tmp / "mail"
        self.mail_dir.mkdir()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": settings.REDIS_URL,
            "OTKLIK_TASKS_BACKEND": "redis",
            "OTKLIK_TASKS_REDIS_PREFIX": f"topology-{uuid.uuid4().hex[:8]}",
            "PYTHONPATH": str(ROOT / "src"),
            "LOG_LEVEL": "WARNING",
            "OTKLIK_LOG_FORMAT": "json",
            "EMAIL_BACKEND": "file",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            # A killed worker's claimed notification is taken over soon, not in 2 minutes.
            "OTKLIK_OUTBOX_LEASE_SECONDS": "3",
            "OTKLIK_AUDIT_SPOOL_DIR": str(tmp / "audit-spool"),
            "OTKLIK_CHAT_STARTS_PER_ADDRESS": "100000",
            "OTKLIK_CHAT_MESSAGES_PER_MINUTE": "100000",
            "WEB_CONCURRENCY": "1",
            "HOST": "127.0.0.1",
        }
        for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "PROMETHEUS_MULTIPROC_DIR"):
            env.pop(name, None)
        bin_dir = Path(sys.executable).parent
        self.ports = [free_port(), free_port()]
        self.apps = [
            Process(
                f"app{i + 1}",
                [
                    str(bin_dir / "gunicorn"),
                    "--config",
                    str(ROOT / "deploy" / "gunicorn.conf.py"),
                    "otklik.asgi:application",
                ],
                {**env, "PORT": str(port)},
                tmp,
            )
            for i, port in enumerate(self.ports)
        ]
        self.workers = [
            Process(
                f"worker{i + 1}",
                [sys.executable, "manage.py", "run_worker", "--scan-interval", "0.2"],
                env,
                tmp,
            )
            for i in range(2)
        ]

    def start(self) -> None:
        for process in [*self.apps, *self.workers]:
            process.start()
        for port in self.ports:
            wait_http(port)

    def stop(self) -> None:
        for process in [*self.apps, *self.workers]:
            process.stop()
        time.sleep(0.5)  # let PostgreSQL see the sessions go before the test database drops

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.log.read_text()[-3000:]}"
            for p in [*self.apps, *self.workers]
            if p.log.exists()
        )


def wait_http(port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz/live")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no server on port {port}")
        time.sleep(0.3)


def post_form(port: int, form_page: str, path: str, cookie: str, fields: dict) -> int:
    """A browser's form POST: open the page with the form (which sets the CSRF cookie),
    then send the form back with the token."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", form_page, headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    csrf = next(
        v.split(";", 1)[0].split("=", 1)[1]
        for k, v in response.getheaders()
        if k.lower() == "set-cookie" and v.startswith("csrftoken=")
    )
    conn.request(
        "POST",
        path,
        body=urlencode({**fields, "csrfmiddlewaretoken": csrf}),
        headers={
            "Cookie": f"{cookie}; csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"http://127.0.0.1:{port}",
        },
    )
    response = conn.getresponse()
    response.read()
    return response.status
