"""HTTP-level benchmark on a real server: queue, client search, case page, API intake.

Not a test. It reuses the large database `bench/run_core.py --prepare-only` builds (1 M
cases by default), starts the server the way production (`make serve`: gunicorn with
uvicorn workers) or development (daphne, what `make run`'s runserver uses) runs it, and
times whole HTTP responses from separate client processes over loopback:

- queue: the operator's queue pages (12 filter combinations), one keep-alive connection;
- search: the client search page's POST (what the search box sends as you type);
- case: case pages of the operator's team;
- intake: POST /api/cases (one case a request, Idempotency-Key each) from two client
  processes at once; cases/s is what the server sustains.

    .venv/bin/python bench/http/run.py --server gunicorn --workers 2
    .venv/bin/python bench/http/run.py --server daphne
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otklik_bench .venv/bin/python bench/http/run.py

Results: stdout and var/bench/http-<server>-<vendor>.json; docs/benchmarks.md keeps them.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.run_core import QUEUE_URLS, search_queries, summary  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=["gunicorn", "uvicorn", "daphne"], default="gunicorn")
    parser.add_argument("--workers", type=int, default=2, help="server processes (gunicorn)")
    parser.add_argument("--db", default="var/bench/core.sqlite3")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--cases", type=int, default=200, help="case pages to GET")
    parser.add_argument("--intake", type=int, default=1000, help="cases to POST in all")
    parser.add_argument("--clients", type=int, default=2, help="intake client processes")
    parser.add_argument("--only", default="queue,search,case,intake")
    return parser.parse_args()


def server_cpu_seconds(root_pid: int) -> float:
    """CPU time (user + system) of the server process and all its descendants, from /proc.

    The machine is shared (other jobs load it), so wall-clock latency depends on the
    neighbours; the server's CPU per request does not, and compares servers fairly."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        stats[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(user) -> str:
    """A signed-in session for `user`, as the Cookie header a browser would send."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def setup(args) -> dict:
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{(ROOT / args.db).resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    import django

    django.setup()
    from django.db import connection

    from otklik.accounts.models import User
    from otklik.accounts.services import api_token_create
    from otklik.cases.models import Case, Topic
    from otklik.clients.models import Client

    operator = User.objects.get(username="bench-operator")
    _, token = api_token_create(user=operator, name=f"http-bench-{uuid.uuid4().hex[:6]}")
    rng = random.Random(11)
    case_ids = list(
        Case.objects.filter(team_id=operator.team_id, is_open=True)
        .order_by("-pk")
        .values_list("pk", flat=True)[:5000]
    )
    max_client = Client.objects.order_by("-pk").values_list("pk", flat=True).first()
    topic_ids = list(
        Topic.objects.filter(default_team_id=operator.team_id).values_list("pk", flat=True)
    )
    ctx = {
        "cookie": session_cookie(operator),
        "token": token,
        "case_paths": [f"/cases/{pk}/" for pk in rng.sample(case_ids, min(len(case_ids), 400))],
        "queries": search_queries(rng, args.searches),
        "max_client": max_client,
        "topic_ids": topic_ids,
        "vendor": connection.vendor,
        "cases_in_db": Case.objects.count(),
    }
    connection.close()
    return ctx


def start_server(args, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(args.workers),
        "OTKLIK_TASKS_BACKEND": "dummy",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    bin_dir = Path(sys.executable).parent
    if args.server == "gunicorn":
        cmd = [
            str(bin_dir / "gunicorn"),
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            # On the command line: the config keeps one process without REDIS_URL (chat
            # needs a shared channel layer); these pages need none, so the bench may use more.
            "--workers",
            str(args.workers),
            "otklik.asgi:application",
        ]
    elif args.server == "uvicorn":
        cmd = [str(bin_dir / "uvicorn"), "--port", str(port), "--workers", str(args.workers)]
        cmd += ["--no-access-log", "--lifespan", "off", "otklik.asgi:application"]
    else:
        cmd = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        cmd += ["otklik.asgi:application"]
    server = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # Five minutes: on the shared 2-core machine under a load of 20-30 the server's import
    # and first database check alone took 77 s.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz/live")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("server did not start")


class Http:
    """One keep-alive connection; each call returns (ms, status, body)."""

    def __init__(self, port: int, cookie: str = "", token: str = ""):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Accept-Language": "ru"}
        if cookie:
            self.headers["Cookie"] = cookie
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: bytes | None = None, headers=None):
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        data = response.read()
        return (time.perf_counter() - started) * 1000, response.status, response, data


def run_queue(port: int, ctx: dict, n: int) -> dict:
    web = Http(port, cookie=ctx["cookie"])
    for url in QUEUE_URLS:
        _, status, _, _ = web.call("GET", url)
        assert status == 200, (url, status)
    times = [web.call("GET", QUEUE_URLS[i % len(QUEUE_URLS)])[0] for i in range(n)]
    return summary(times)


def run_search(port: int, ctx: dict) -> dict:
    web = Http(port, cookie=ctx["cookie"])
    _, status, response, _ = web.call("GET", "/clients/search")
    assert status == 200, status
    csrf = ""
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and value.startswith("csrftoken="):
            csrf = value.split(";", 1)[0].split("=", 1)[1]
    web.headers["Cookie"] += f"; csrftoken={csrf}"
    headers = {
        "X-CSRFToken": csrf,
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": f"http://127.0.0.1:{port}",
        "Referer": f"http://127.0.0.1:{port}/clients/search",
    }
    by_kind: dict[str, list[float]] = {}
    for i, (kind, q) in enumerate(ctx["queries"]):
        ms, status, _, _ = web.call(
            "POST", "/clients/search", urlencode({"q": q}).encode(), headers
        )
        assert status == 200, (q, status)
        if i >= 10:  # the first ten warm up
            by_kind.setdefault(kind, []).append(ms)
    every = [t for times in by_kind.values() for t in times]
    return {"overall": summary(every), "by_kind": {k: summary(v) for k, v in by_kind.items()}}


def run_case_pages(port: int, ctx: dict, n: int) -> dict:
    web = Http(port, cookie=ctx["cookie"])
    paths = ctx["case_paths"]
    times = []
    for i in range(n + 10):
        ms, status, _, _ = web.call("GET", paths[i % len(paths)])
        assert status == 200, (paths[i % len(paths)], status)
        if i >= 10:
            times.append(ms)
    return summary(times)


def _intake_client(job: tuple) -> tuple[list[float], int]:
    port, token, count, seed, max_client, topic_ids = job
    web = Http(port, token=token)
    rng = random.Random(seed)
    times, errors = [], 0
    for _ in range(count):
        body = {
            "client_id": rng.randrange(1, max_client + 1),
            "subject": "Не проходит оплата картой",
            "channel": "chat",
            "topic_id": rng.choice(topic_ids),
            "priority": 2,
            "description": "Клиент пишет в чат: оплата картой в магазине не проходит.",
        }
        ms, status, _, _ = web.call(
            "POST",
            "/api/cases",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
        )
        times.append(ms)
        errors += status != 201
    return times, errors


def run_intake(port: int, ctx: dict, n: int, clients: int) -> dict:
    base = (port, ctx["token"])
    _intake_client((*base, 10, 1, ctx["max_client"], ctx["topic_ids"]))  # warm-up
    jobs = [
        (*base, n // clients, 100 + i, ctx["max_client"], ctx["topic_ids"]) for i in range(clients)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        outs = pool.map(_intake_client, jobs)
    elapsed = time.perf_counter() - started
    times = [t for out, _ in outs for t in out]
    return {
        **summary(times),
        "clients": clients,
        "cases_per_s": round(len(times) / elapsed),
        "errors": sum(e for _, e in outs),
        "seconds": round(elapsed, 1),
    }


def main() -> None:
    args = parse_args()
    ctx = setup(args)
    port = args.port or free_port()
    only = set(args.only.split(","))
    load_before = os.getloadavg()
    server = start_server(args, port)
    results: dict = {
        "server": args.server,
        "workers": args.workers if args.server != "daphne" else 1,
        "database": ctx["vendor"],
        "cases_in_db": ctx["cases_in_db"],
        "cores": os.cpu_count(),
    }

    def phase(name: str, func, requests: int) -> None:
        cpu = server_cpu_seconds(server.pid)
        results[name] = func()
        used = server_cpu_seconds(server.pid) - cpu
        target = results[name]["overall"] if "overall" in results[name] else results[name]
        target["server_cpu_ms_per_request"] = round(used * 1000 / max(requests, 1), 1)
        print(name, target, flush=True)

    try:
        if "queue" in only:
            phase("queue", lambda: run_queue(port, ctx, args.requests), args.requests + 12)
        if "search" in only:
            phase("search", lambda: run_search(port, ctx), len(ctx["queries"]))
        if "case" in only:
            phase("case_page", lambda: run_case_pages(port, ctx, args.cases), args.cases + 10)
        if "intake" in only:
            phase(
                "intake",
                lambda: run_intake(port, ctx, args.intake, args.clients),
                args.intake + 10,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    results["load_average_after"] = os.getloadavg()
    results["load_average_before"] = load_before
    out = ROOT / "var" / "bench" / f"http-{args.server}-{ctx['vendor']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
