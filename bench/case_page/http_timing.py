"""What both case-page benchmarks share (ours and django-helpdesk's): the server command
line and the HTTP client. Stdlib only (plus `bench/run_core.py`'s percentile helpers, also
stdlib), so django-helpdesk's separate virtualenv can import it: one keep-alive
connection, requests one after another, wall time per full response."""

import http.client
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.run_core import summary

SERVERS = ("gunicorn", "daphne")


def server_command(server: str, app: str, port: int, *, config: str = "") -> list[str]:
    """The command that serves `app` (an ASGI path) on 127.0.0.1:`port`.

    gunicorn: one process with uvicorn's worker, as `make serve` runs Otklik without Redis
    (deploy/gunicorn.conf.py: one process when the channel layer is in memory), with that
    config file when given; daphne: one process.
    """
    if server == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
        if config:
            command += ["--config", config]
        command += ["--workers", "1", "--worker-class", "uvicorn_worker.UvicornWorker"]
        return [*command, "--log-level", "warning", app]
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]
    raise ValueError(f"unknown server {server!r}, expected one of {SERVERS}")


def wait_for_server(port: int, path: str, cookie: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Cookie": cookie})
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def measure(port: int, paths: list[str], cookie: str, n: int, warmup: int = 20) -> dict:
    """GET `paths` round-robin `n` times (after `warmup` untimed ones); p50/p95 in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie, "Accept-Language": "ru"}

    def get(path: str) -> float:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status} {body[:300]!r}")
        return elapsed

    for i in range(warmup):
        get(paths[i % len(paths)])
    load_before = os.getloadavg()
    times = [get(paths[i % len(paths)]) for i in range(n)]
    load_after = os.getloadavg()
    conn.close()
    return {
        **summary(times),
        "loadavg_1m_before": round(load_before[0], 2),
        "loadavg_1m_after": round(load_after[0], 2),
    }


def hand_over(port: int, cookie: str, pages: dict[str, list[str]]) -> None:
    """`--serve` mode: tell the driver (`interleave.py`) where the server is and what to ask
    (one JSON line on stdout), then keep the server up until the driver closes stdin."""
    print(json.dumps({"port": port, "cookie": cookie, "pages": pages}), flush=True)
    sys.stdin.read()


def timed_block(conn: http.client.HTTPConnection, paths: list[str], cookie: str) -> list[float]:
    """GET each of `paths` once on `conn`; wall time per full response in ms."""
    headers = {"Cookie": cookie, "Accept-Language": "ru"}
    times = []
    for path in paths:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status} {body[:300]!r}")
    return times
