"""Analytics dashboard benchmark: dashboard p95 over a loaded database, in-process and
over HTTP on the production server, and the streamed export of a month's case list with
the peak RSS of the process that streams it.

Not a test. Load the database first (it is reused), e.g.

    export DATABASE_URL=sqlite:////tmp/anl1m.sqlite3            # or postgres://…
    DEBUG=1 .venv/bin/python manage.py migrate
    DEBUG=1 .venv/bin/python manage.py generate_load --clients 50000 --cases 420000 \\
        --analytics --rollup-days 95
    DEBUG=1 PYTHONPATH=$PWD/src .venv/bin/python bench/analytics/bench_dashboard.py --runs 20
    # over HTTP, against `make serve`-style gunicorn on the same database:
    … bench_dashboard.py --runs 20 --url http://127.0.0.1:8120 --server-pids 123,124

It signs in as a head of the centre (all teams: the widest scope, the slowest case) and
requests the dashboard for periods of whole days ending on `--end` (default today): one
day, 7 days, 30 days compared with the 30 before, 30 days for one team and the phone,
30 days of one business line, 90 days; `--runs` times each. Then it streams the case
list behind "contacts" over `--export-days` days as CSV and XLSX and reports rows, time,
and the peak RSS (VmHWM, reset before each export) of the process that streamed it.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()


def reset_hwm(pids: list[int]) -> None:
    """Reset the peak RSS (VmHWM) of these processes (Linux: clear_refs 5)."""
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def hwm_mib(pids: list[int]) -> dict[int, float]:
    peaks = {}
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                peaks.setdefault(pid, {})[line.split(":")[0]] = int(line.split()[1]) / 1024
    return peaks


def p95(times: list[float]) -> float:
    times = sorted(times)
    return times[max(0, int(len(times) * 0.95 + 0.5) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--end", default="", help="last day of every period (YYYY-MM-DD)")
    parser.add_argument("--export-days", type=int, default=30)
    parser.add_argument("--url", default="", help="measure over HTTP against this server")
    parser.add_argument("--server-pids", default="", help="server worker pids (peak RSS)")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated view names")
    args = parser.parse_args()
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from otklik.accounts.models import Role, Team, User
    from otklik.analytics.models import DailyRollup, DashboardScope, HourlyRollup
    from otklik.cases.models import Interaction

    setup_test_environment()
    head, _ = User.objects.get_or_create(username="bench-head", defaults={"role": Role.SUPERVISOR})
    DashboardScope.objects.update_or_create(user=head, defaults={"sees_all": True})
    team = Team.objects.order_by("pk").first()
    end = date.fromisoformat(args.end) if args.end else timezone.localdate()

    def days(n: int) -> dict:
        return {"period": "custom", "from": (end - timedelta(days=n - 1)).isoformat(), "to": end}

    views = {
        "1 day (hourly level)": days(1),
        "7 days": days(7),
        "30 days + compare": {**days(30), "compare": "1"},
        "30 days, team + phone": {**days(30), "team": team.pk, "channel": "phone"},
        "30 days, business line": {**days(30), "line": "bank"},
        "90 days": days(90),
    }
    if args.only:
        views = {k: v for k, v in views.items() if k in args.only.split(",")}
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(head)
    session = client.cookies["sessionid"].value
    pids = [int(p) for p in args.server_pids.split(",") if p]

    def get(path: str, params: dict) -> tuple[int, int, int]:
        """(status, bytes, CSV case rows), reading the body chunk by chunk: the bench
        never holds a whole export either."""
        size = rows = 0
        if not args.url:
            response = client.get(path, params)
            chunks = response.streaming_content if response.streaming else [response.content]
            status = response.status_code
        else:
            request = urllib.request.Request(
                f"{args.url}{path}?{urlencode(params)}",
                headers={"Cookie": f"sessionid={session}"},
            )
            response = urllib.request.urlopen(request, timeout=900)
            chunks = iter(lambda: response.read(1 << 16), b"")
            status = response.status
        tail = b""
        for chunk in chunks:
            size += len(chunk)
            rows += (tail + chunk).count("\n№".encode())
            tail = chunk[-4:]
        return status, size, rows

    result = {
        "vendor": connection.vendor,
        "over": args.url or "in-process (test client)",
        "interactions": Interaction.objects.count(),
        "hourly rollup rows": HourlyRollup.objects.count(),
        "daily rollup rows": DailyRollup.objects.count(),
        "end": end.isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, shared with other helpers",
        "load before": os.getloadavg(),
        "dashboard_ms": {},
    }
    print(json.dumps({k: v for k, v in result.items() if k != "dashboard_ms"}, default=str))
    get("/analytics/", views[next(iter(views))])  # warm up (imports, first connection)
    for name, params in views.items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            status, _size, _rows = get("/analytics/", params)
            assert status == 200, status
            times.append((time.perf_counter() - started) * 1000)
        result["dashboard_ms"][name] = {
            "median": round(statistics.median(times), 1),
            "p95": round(p95(times), 1),
            "max": round(max(times), 1),
        }
        print(f"  {name:<26} median {statistics.median(times):7.1f} ms  p95 {p95(times):7.1f} ms")
    result["load after dashboards"] = os.getloadavg()
    if not args.skip_export:
        month_cases = {**days(args.export_days), "metric": "contacts"}
        for fmt in ("csv", "xlsx"):
            import resource

            if pids:
                reset_hwm(pids)
                before = hwm_mib(pids)
            else:
                reset_hwm([os.getpid()])
                before = hwm_mib([os.getpid()])
            started = time.perf_counter()
            status, size, rows = get(f"/analytics/export/cases.{fmt}", month_cases)
            seconds = time.perf_counter() - started
            after = hwm_mib(pids or [os.getpid()])
            result[f"export_{fmt}"] = {
                "status": status,
                "bytes": size,
                "seconds": round(seconds, 1),
                "rss_before_mib": {p: round(v["VmRSS"], 1) for p, v in before.items()},
                "peak_rss_mib": {p: round(v["VmHWM"], 1) for p, v in after.items()},
                "rows": rows if fmt == "csv" else None,
                "maxrss_self_mib": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
            }
            print(f"  export {fmt}: {json.dumps(result[f'export_{fmt}'])}")
    result["load after"] = os.getloadavg()
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    tag = "http" if args.url else "inproc"
    (out / f"analytics-{connection.vendor}-{tag}.json").write_text(
        json.dumps(result, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
