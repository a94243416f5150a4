"""Analytics dashboard benchmark: dashboard p95 over a loaded database, and a streamed
export of a month's case list.

Not a test. Load the database first (it is reused):

    export DATABASE_URL=sqlite:////tmp/anl1m.sqlite3            # or postgres://…
    DEBUG=1 .venv/bin/python manage.py migrate
    DEBUG=1 .venv/bin/python manage.py generate_load --clients 50000 --cases 420000 --analytics
    DEBUG=1 .venv/bin/python bench/analytics/bench_dashboard.py --runs 20

It signs in as a head of the centre (all teams: the widest scope, the slowest case) and
requests the dashboard with each period and a few filters, `--runs` times each, then
streams the 30-day case-list export (CSV and XLSX) and reports rows, time and the peak of
Python memory (tracemalloc) while streaming.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--export-days", type=int, default=30, help="days of cases in the export (custom period)"
    )
    args = parser.parse_args()
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from otklik.accounts.models import Role, Team, User
    from otklik.analytics.models import DashboardScope, HourlyRollup
    from otklik.cases.models import Interaction

    setup_test_environment()
    head, _ = User.objects.get_or_create(username="bench-head", defaults={"role": Role.SUPERVISOR})
    DashboardScope.objects.update_or_create(user=head, defaults={"sees_all": True})
    team = Team.objects.order_by("pk").first()
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(head)
    views = {
        "today": {"period": "today"},
        "week": {"period": "week"},
        "month+compare": {"period": "month", "compare": "1"},
        "month team+channel": {"period": "month", "team": team.pk, "channel": "phone"},
        "custom 90 days": {"period": "custom", "from": "2026-09-01", "to": "2026-11-29"},
    }
    result = {
        "vendor": connection.vendor,
        "interactions": Interaction.objects.count(),
        "rollup rows": HourlyRollup.objects.count(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, shared with other helpers",
        "dashboard_ms": {},
    }
    print(
        f"{result['vendor']}: {result['interactions']:,} interactions, "
        f"{result['rollup rows']:,} rollup rows"
    )
    for name, params in views.items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get("/analytics/", params)
            assert response.status_code == 200, response.status_code
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        result["dashboard_ms"][name] = {
            "median": round(statistics.median(times), 1),
            "p95": round(p95, 1),
        }
        print(
            f"  dashboard {name:<22} median {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms"
        )
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    month_cases = {
        "period": "custom",
        "from": (today - timedelta(days=args.export_days - 1)).isoformat(),
        "to": today.isoformat(),
        "metric": "contacts",
    }
    for fmt in ("csv", "xlsx"):
        tracemalloc.start()
        started = time.perf_counter()
        response = client.get(f"/analytics/export/cases.{fmt}", month_cases)
        size = sum(len(chunk) for chunk in response.streaming_content)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows = None
        if fmt == "csv":
            body = client.get(f"/analytics/export/cases.{fmt}", month_cases)
            rows = sum(1 for chunk in body.streaming_content if chunk.startswith("№".encode()))
        result[f"export_{fmt}"] = {
            "bytes": size,
            "seconds": round(seconds, 1),
            "peak_mib": round(peak / 2**20, 1),
            "rows": rows,
        }
        print(
            f"  export {fmt}: {size / 2**20:.1f} MiB in {seconds:.1f} s, "
            f"peak Python memory {peak / 2**20:.1f} MiB, rows {rows}"
        )
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"analytics-{connection.vendor}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
