"""The HTTP client both case-page benchmarks use (ours and django-helpdesk's): stdlib only,
one keep-alive connection, requests one after another, wall time per full response."""

import http.client
import os
import statistics
import time


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(times_ms: list[float]) -> dict:
    return {
        "n": len(times_ms),
        "p50_ms": round(pct(times_ms, 0.50), 1),
        "p95_ms": round(pct(times_ms, 0.95), 1),
        "p99_ms": round(pct(times_ms, 0.99), 1),
        "max_ms": round(max(times_ms), 1),
        "mean_ms": round(statistics.fmean(times_ms), 1),
    }


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
