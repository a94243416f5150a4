"""SLA breach scan benchmark: 1 M open deadlines, scan cost by number of due ones, latency.

Not a test: builds (or reuses) a separate database, bulk-inserts open deadlines (4 kinds
on 250 k cases), then
  1. times `scan_deadlines` draining 0 / 100 / 1 000 / 10 000 due deadlines, first with
     100 k open deadlines and then with 1 M, to show the cost follows the due rows;
  2. runs the scan every second (as the worker does) while deadlines fall due, and
     measures due time → breach (claim) and due time → committed report.
Results go to stdout and var/bench/sla-<vendor>.json; docs/sla-benchmarks.md records them.

    .venv/bin/python bench/sla/bench_scan.py                 # SQLite var/bench/sla.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otklik_sla_bench \
        .venv/bin/python bench/sla/bench_scan.py
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES_PER_STEP = 25_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="var/bench/sla.sqlite3")
    parser.add_argument("--open", type=int, default=1_000_000, help="open deadlines")
    parser.add_argument("--latency-items", type=int, default=300)
    parser.add_argument("--latency-seconds", type=int, default=20)
    return parser.parse_args()


def setup(args) -> None:
    if not os.environ.get("DATABASE_URL"):
        db = ROOT / args.db
        db.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def seed_people():
    from otklik.accounts.models import Role, Team, User
    from otklik.clients.models import Client

    team, _ = Team.objects.get_or_create(name="Bench team")
    owner, _ = User.objects.get_or_create(
        username="bench-owner",
        defaults={"role": Role.OPERATOR, "team": team, "email": "owner@example.org"},
    )
    User.objects.get_or_create(
        username="bench-senior",
        defaults={"role": Role.SENIOR_OPERATOR, "team": team, "email": "senior@example.org"},
    )
    User.objects.get_or_create(
        username="bench-super", defaults={"role": Role.SUPERVISOR, "email": "super@example.org"}
    )
    client = Client.objects.filter(last_name="Bench").first() or Client.objects.create(
        last_name="Bench", first_name="Client"
    )
    return team, owner, client


FAR = datetime(2100, 1, 1, tzinfo=UTC)


def fill(target: int, team, owner, client) -> None:
    """Insert cases and 4 open deadlines each until `target` open deadlines exist.

    Every bench deadline is far in the future; a measurement pulls a few into the past.
    """
    from django.db import connection, transaction

    from otklik.cases.models import Case
    from otklik.sla.models import Deadline, DeadlineKind

    kinds = list(DeadlineKind.values)
    have = Deadline.objects.count()
    rng = random.Random(7)
    now = datetime.now(UTC)
    while have < target:
        n_cases = min(CASES_PER_STEP, (target - have + 3) // 4)
        started = time.perf_counter()
        with transaction.atomic():
            cases = Case.objects.bulk_create(
                [
                    Case(
                        client=client,
                        subject="bench",
                        channel="email",
                        team=team,
                        owner=owner,
                        created_at=now,
                        updated_at=now,
                        due_at=FAR,
                    )
                    for _ in range(n_cases)
                ],
                batch_size=5000,
            )
            rows = []
            adapt = connection.ops.adapt_datetimefield_value
            for case in cases:
                for kind in kinds:
                    due = FAR + timedelta(seconds=rng.randrange(86400 * 365))
                    rows.append(
                        (
                            case.pk,
                            kind,
                            60,
                            0,
                            adapt(now),
                            adapt(due),
                            adapt(due - timedelta(hours=1)),
                        )
                    )
            with connection.cursor() as cur:
                cur.executemany(
                    "INSERT INTO sla_deadline (case_id, kind, target_minutes,"
                    " warn_before_seconds, started_at, due_at, warn_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
        have += len(rows)
        print(f"  {have:>9,} open deadlines ({time.perf_counter() - started:.1f} s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE sla_deadline")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def make_due(count: int, now: datetime) -> list[int]:
    """Pull `count` running deadlines into the past (due one second ago)."""
    from otklik.sla.models import Deadline
    from otklik.sla.services import RUNNING

    ids = list(
        Deadline.objects.filter(RUNNING).order_by("-pk").values_list("pk", flat=True)[:count]
    )
    Deadline.objects.filter(pk__in=ids).update(due_at=now - timedelta(seconds=1))
    return ids


def find_due_ms(now) -> float:
    """The scan's query alone (first batch of ids), best of 5."""
    from otklik.sla.models import Deadline
    from otklik.sla.services import RUNNING

    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        list(
            Deadline.objects.filter(RUNNING, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:500]
        )
        best = min(best, time.perf_counter() - t)
    return best * 1000


def drain() -> tuple[float, int]:
    from otklik.sla.services import scan_deadlines

    t = time.perf_counter()
    breached = 0
    while True:
        result = scan_deadlines()
        breached += len(result.breached)
        if not result.more:
            break
    return time.perf_counter() - t, breached


def scan_costs(open_count: int, levels) -> list[dict]:
    from django.utils import timezone

    rows = []
    for due in levels:
        now = timezone.now()
        make_due(due, now)
        query_ms = find_due_ms(timezone.now())
        seconds, breached = drain()
        assert breached == due, (breached, due)
        row = {
            "open": open_count,
            "due": due,
            "find_due_ms": round(query_ms, 2),
            "scan_s": round(seconds, 3),
            "per_item_ms": round(seconds * 1000 / due, 2) if due else None,
        }
        print(f"  {row}", flush=True)
        rows.append(row)
    return rows


def latency(items: int, spread: int) -> dict:
    """Deadlines fall due over `spread` seconds while the scan runs every second."""
    from django.utils import timezone

    from otklik.sla.models import Deadline
    from otklik.sla.services import RUNNING, scan_deadlines

    start = timezone.now() + timedelta(seconds=2)
    ids = list(
        Deadline.objects.filter(RUNNING).order_by("-pk").values_list("pk", flat=True)[:items]
    )
    rng = random.Random(11)
    for pk in ids:
        Deadline.objects.filter(pk=pk).update(
            due_at=start + timedelta(seconds=rng.uniform(0, spread))
        )
    reported: dict[int, datetime] = {}
    end = time.monotonic() + spread + 5
    scan_ms = []
    while time.monotonic() < end:
        tick = time.monotonic()
        result = scan_deadlines()
        done = timezone.now()
        for pk in result.breached:
            reported[pk] = done
        scan_ms.append((time.monotonic() - tick) * 1000)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    rows = Deadline.objects.filter(pk__in=ids).values_list("pk", "due_at", "breached_at")
    claim = sorted((b - d).total_seconds() for _, d, b in rows if b)
    commit = sorted((reported[pk] - d).total_seconds() for pk, d, _ in rows if pk in reported)
    assert len(claim) == items and len(commit) == items

    def q(values, p):
        return round(values[min(len(values) - 1, int(p * len(values)))], 3)

    return {
        "items": items,
        "spread_s": spread,
        "claim_p50_s": q(claim, 0.5),
        "claim_p99_s": q(claim, 0.99),
        "claim_max_s": round(max(claim), 3),
        "report_p50_s": q(commit, 0.5),
        "report_p99_s": q(commit, 0.99),
        "report_max_s": round(max(commit), 3),
        "scan_ms_median": round(statistics.median(scan_ms), 1),
        "scan_ms_max": round(max(scan_ms), 1),
    }


def plan() -> str:
    from django.utils import timezone

    from otklik.sla.models import Deadline
    from otklik.sla.services import RUNNING

    return (
        Deadline.objects.filter(RUNNING, due_at__lte=timezone.now())
        .order_by("due_at")
        .values_list("pk", flat=True)[:500]
        .explain()
    )


def main() -> None:
    args = parse_args()
    setup(args)
    from django.db import connection

    team, owner, client = seed_people()
    results = {
        "vendor": connection.vendor,
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "scan": [],
    }
    for open_count in sorted({min(100_000, args.open), args.open}):
        print(f"filling to {open_count:,} open deadlines", flush=True)
        fill(open_count, team, owner, client)
        levels = (0, 100, 1_000, 10_000) if open_count == args.open else (0, 100, 1_000)
        results["scan"] += scan_costs(open_count, levels)
    results["plan"] = plan()
    print(results["plan"])
    print("latency (scan every 1 s)", flush=True)
    results["latency"] = latency(args.latency_items, args.latency_seconds)
    print(f"  {results['latency']}")
    out = ROOT / "var" / "bench" / f"sla-{connection.vendor}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written {out}")


if __name__ == "__main__":
    main()
