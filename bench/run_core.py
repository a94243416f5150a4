"""Core benchmarks on a large database: queue page, API case list, client search, intake.

Not a test: a script that builds (or reuses) a separate database, fills it with
`generate_load`, and times requests through Django's test client (in-process, no network,
full middleware, templates and session/token auth). Results go to stdout and to
var/bench/results-<vendor>.json; docs/benchmarks.md records them.

    .venv/bin/python bench/run_core.py                       # SQLite, 100k clients / 1M cases
    .venv/bin/python bench/run_core.py --clients 10000 --cases 100000 --db var/bench/small.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otklik_bench .venv/bin/python bench/run_core.py
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        default="var/bench/core.sqlite3",
        help="SQLite file (ignored when DATABASE_URL is set)",
    )
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=240, help="queue/API requests each")
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--intake", type=int, default=2000, help="cases to POST sequentially")
    parser.add_argument("--processes", type=int, default=2, help="workers for the 2nd run")
    parser.add_argument(
        "--only",
        default="queue,api,search,intake",
        help="comma-separated parts to measure: queue, api, search, intake",
    )
    parser.add_argument("--fresh", action="store_true", help="delete the SQLite file first")
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print query plans")
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    if "DATABASE_URL" not in os.environ:
        path = (ROOT / args.db).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        if args.fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()


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


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def prepare(args: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from otklik.accounts.models import Role, User
    from otklik.accounts.services import api_token_create
    from otklik.cases.models import Case
    from otklik.demo.load import generate_load

    call_command("migrate", verbosity=0)
    have = Case.objects.count()
    load = None
    if have < args.cases:
        print(f"generating {args.clients:,} clients / {args.cases - have:,} cases …", flush=True)
        started = time.perf_counter()
        stats = generate_load(
            clients=args.clients,
            cases=args.cases - have,
            seed=7,
            log=lambda m: print("  " + m, flush=True),
        )
        elapsed = time.perf_counter() - started
        load = {
            "seconds": round(elapsed, 1),
            "rows": stats.rows,
            "phases": {k: round(v, 1) for k, v in stats.seconds.items()},
            "rows_per_s": round(stats.total_rows / elapsed),
            "cases_per_s": round(stats.rows["cases"] / elapsed),
        }
        print(f"  done in {elapsed:.0f} s ({load['rows_per_s']:,} rows/s)", flush=True)
    # Fresh planner statistics, as a deployment must keep them (see docs/benchmarks.md):
    # without them SQLite picks a new index blindly after a migration.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # The operator works in the team with the most open cases (the hardest queue).
    from django.db.models import Count

    busiest = (
        Case.objects.filter(is_open=True)
        .values("team_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    operator, _ = User.objects.update_or_create(
        username="bench-operator",
        defaults={"role": Role.OPERATOR, "team_id": busiest["team_id"], "first_name": "Бенч"},
    )
    supervisor, _ = User.objects.update_or_create(
        username="bench-supervisor", defaults={"role": Role.SUPERVISOR, "first_name": "Бенч"}
    )
    _, token = api_token_create(user=operator, name="bench")
    counts = {
        "clients": _count("clients_client"),
        "cases": _count("cases_case"),
        "open_cases": Case.objects.filter(is_open=True).count(),
        "team_open_cases": busiest["n"],
        "search_terms": _count("clients_clientsearchterm"),
    }
    return {
        "operator": operator,
        "supervisor": supervisor,
        "token": token,
        "load": load,
        "counts": counts,
        "vendor": connection.vendor,
    }


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


QUEUE_URLS = [
    "/?scope=team&status=open&sort=oldest",
    "/?scope=team&status=open&sort=priority",
    "/?scope=team&status=open&overdue=1",
    "/?scope=team&status=in_progress",
    "/?scope=team&status=new&sort=newest",
    "/?scope=team&status=open&page=2",
    "/?scope=team&status=open&page=5",
    "/?scope=team&status=open&sort=due",
    "/?scope=team&status=open&channel=chat",
    "/?scope=mine&status=open",
    "/?scope=team&status=any&sort=newest",
    "/?scope=team&status=waiting_client&sort=priority",
]
SUPERVISOR_URLS = ["/?scope=all&status=open", "/?scope=all&status=open&overdue=1&sort=priority"]
API_URLS = [
    "/api/cases?scope=team&status=open&page=1&page_size=50",
    "/api/cases?scope=team&status=open&sort=priority&page_size=50",
    "/api/cases?scope=team&status=open&overdue=true&page_size=50",
    "/api/cases?scope=team&status=in_progress&page=3&page_size=50",
    "/api/cases?scope=team&status=open&sort=newest&page_size=100",
    "/api/cases?scope=mine&status=open&page_size=50",
]


def run_urls(client, urls: list[str], n: int, headers: dict | None = None) -> dict:
    for url in urls:  # warm-up: templates, caches, first connection
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    per_url: dict[str, list[float]] = {url: [] for url in urls}
    for i in range(n):
        url = urls[i % len(urls)]
        per_url[url].append(timed(lambda url=url: client.get(url, headers=headers or {})))
    all_times = [t for times in per_url.values() for t in times]
    return {
        "overall": summary(all_times),
        "by_url": {url: summary(times) for url, times in per_url.items()},
    }


def search_queries(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Realistic lookups built from stored data: phone (full/prefix), name, contract, PAN."""
    from otklik.clients.models import Client, ContactPoint, Product

    max_id = Client.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids = [rng.randrange(1, max_id + 1) for _ in range(count)]
    clients = {c.pk: c for c in Client.objects.filter(pk__in=ids)}
    phones = dict(
        ContactPoint.objects.filter(client_id__in=ids, kind="phone").values_list(
            "client_id", "value"
        )
    )
    numbers = dict(
        Product.objects.filter(client_id__in=ids)
        .exclude(number="")
        .values_list("client_id", "number")
    )
    queries = []
    kinds = ["phone", "phone_prefix", "name", "name_prefix", "surname_prefix", "contract"]
    for i, cid in enumerate(ids):
        client = clients.get(cid)
        if client is None:
            continue
        kind = kinds[i % len(kinds)]
        phone = phones.get(cid, "+79160000000")
        if kind == "phone":
            d = phone[2:]
            queries.append((kind, f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}"))
        elif kind == "phone_prefix":
            queries.append((kind, "8" + phone[2:9]))
        elif kind == "name":
            queries.append((kind, f"{client.last_name} {client.first_name} {client.patronymic}"))
        elif kind == "name_prefix":
            queries.append((kind, f"{client.last_name} {client.first_name[:3]}"))
        elif kind == "surname_prefix":
            queries.append((kind, client.last_name[:4]))
        elif cid in numbers:
            queries.append((kind, numbers[cid]))
    return queries


def run_search(ctx: dict, queries: list[tuple[str, str]], web) -> dict:
    from otklik.clients.selectors import client_search

    operator = ctx["operator"]
    for _, q in queries[:10]:
        client_search(user=operator, query=q)
        web.get("/clients/search", {"q": q})
    selector: dict[str, list[float]] = {}
    page: dict[str, list[float]] = {}
    empty = 0
    for kind, q in queries:
        found: list = []
        selector.setdefault(kind, []).append(
            timed(lambda q=q, found=found: found.extend(client_search(user=operator, query=q)))
        )
        empty += not found
        page.setdefault(kind, []).append(timed(lambda q=q: web.get("/clients/search", {"q": q})))
    flat = lambda d: [t for ts in d.values() for t in ts]  # noqa: E731
    return {
        "selector": {
            "overall": summary(flat(selector)),
            "by_kind": {k: summary(v) for k, v in selector.items()},
        },
        "page": {
            "overall": summary(flat(page)),
            "by_kind": {k: summary(v) for k, v in page.items()},
        },
        "queries_without_result": empty,
    }


def _intake_worker(job: tuple) -> tuple[list[float], int]:
    """POST `count` cases, `batch` per request; runs in its own process (the GIL would
    serialise threads). Returns the time of each request and the number of failed ones."""
    from django.db import connections
    from django.test import Client as WebClient

    count, seed, token, max_id, topic_ids, batch = job
    web = WebClient()
    rng = random.Random(seed)
    times, errors = [], 0

    def one_case() -> dict:
        return {
            "client_id": rng.randrange(1, max_id + 1),
            "subject": "Не проходит оплата картой",
            "channel": "chat",
            "topic_id": rng.choice(topic_ids),
            "priority": 2,
            "description": "Клиент пишет в чат: оплата картой в магазине не проходит.",
        }

    try:
        for _ in range(count // batch):
            if batch == 1:
                path, body = "/api/cases", one_case()
            else:
                path, body = "/api/cases/batch", {"cases": [one_case() for _ in range(batch)]}
            started = time.perf_counter()
            response = web.post(
                path,
                body,
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
            )
            times.append((time.perf_counter() - started) * 1000)
            errors += response.status_code != 201
    finally:
        connections.close_all()
    return times, errors


def run_intake(ctx: dict, n: int, processes: int) -> dict:
    import multiprocessing

    from django.db import connections

    from otklik.cases.models import Topic
    from otklik.cases.services import case_open
    from otklik.clients.models import Client

    max_id = Client.objects.order_by("-pk").values_list("pk", flat=True).first()
    team_id = ctx["operator"].team_id
    topic_ids = list(Topic.objects.filter(default_team_id=team_id).values_list("pk", flat=True))
    args = (ctx["token"], max_id, topic_ids)
    _intake_worker((20, 1, *args, 1))  # warm-up
    results = {}
    connections.close_all()  # children must not share the parent's connection
    fork = multiprocessing.get_context("fork")
    runs = [
        ("api_sequential", 1, 1),
        (f"api_{processes}_processes", processes, 1),
        ("api_batch_100_sequential", 1, 100),
    ]
    for label, procs, batch in runs:
        started = time.perf_counter()
        if procs == 1:
            outs = [_intake_worker((n, 100, *args, batch))]
        else:
            with fork.Pool(procs) as pool:
                outs = pool.map(
                    _intake_worker, [(n // procs, 200 + i, *args, batch) for i in range(procs)]
                )
        elapsed = time.perf_counter() - started
        connections.close_all()
        times = [t for out, _ in outs for t in out]
        results[label] = {
            **summary(times),
            "requests": len(times),
            "cases_per_s": round(len(times) * batch / elapsed),
            "errors": sum(e for _, e in outs),
            "seconds": round(elapsed, 1),
        }
    # The service alone (no HTTP, auth, JSON, idempotency): where the time goes.
    operator = ctx["operator"]
    clients = list(Client.objects.filter(pk__in=range(1, 1001)))
    topics = list(Topic.objects.filter(pk__in=topic_ids))
    rng = random.Random(5)
    times = []
    started = time.perf_counter()
    for _ in range(min(n, 1000)):
        t0 = time.perf_counter()
        case_open(
            actor=operator,
            client=rng.choice(clients),
            subject="Не проходит оплата картой",
            channel="chat",
            topic=rng.choice(topics),
            description="Клиент пишет в чат: оплата картой в магазине не проходит.",
        )
        times.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    results["service_case_open"] = {**summary(times), "cases_per_s": round(len(times) / elapsed)}
    return results


def explain(ctx: dict) -> None:
    from django.utils import timezone

    from otklik.cases.selectors import QueueFilters, case_queue
    from otklik.clients.selectors import ClientSearchTerm

    operator = ctx["operator"]
    for filters in (
        QueueFilters(),
        QueueFilters(sort="priority"),
        QueueFilters(overdue=True),
        QueueFilters(status="in_progress"),
        QueueFilters(status="any", sort="newest"),
        QueueFilters(sort="due"),
    ):
        qs = case_queue(user=operator, filters=filters, now=timezone.now())[:51]
        print(f"\n-- {filters}\n{qs.explain()}")
    qs = ClientSearchTerm.objects.filter(term__gte="иванов", term__lt="иванов\uffff")[:100]
    print(f"\n-- search\n{qs.explain()}")


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import sqlite3

    import django

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "django": django.get_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": os.getloadavg(),
    }


def main() -> None:
    args = parse_args()
    setup_django(args)
    from django.test import Client as WebClient

    ctx = prepare(args)
    print(json.dumps({"counts": ctx["counts"], "load": ctx["load"]}, ensure_ascii=False))
    if args.prepare_only:
        return
    if args.explain:
        explain(ctx)
    results: dict = {
        "machine": machine(),
        "vendor": ctx["vendor"],
        "counts": ctx["counts"],
        "load": ctx["load"],
    }
    parts = {part.strip() for part in args.only.split(",") if part.strip()}
    web = WebClient()
    web.force_login(ctx["operator"])
    if "queue" in parts:
        print("queue page (operator) …", flush=True)
        results["queue_page"] = run_urls(web, QUEUE_URLS, args.requests)
        sup = WebClient()
        sup.force_login(ctx["supervisor"])
        print("queue page (supervisor, all teams) …", flush=True)
        results["queue_page_supervisor"] = run_urls(sup, SUPERVISOR_URLS, args.requests // 4)
    if "api" in parts:
        print("API case list …", flush=True)
        api = WebClient()
        results["api_list"] = run_urls(
            api, API_URLS, args.requests, headers={"Authorization": f"Bearer {ctx['token']}"}
        )
    if "search" in parts:
        print("client search …", flush=True)
        queries = search_queries(random.Random(3), args.searches)
        results["search"] = run_search(ctx, queries, web)
    if args.intake and "intake" in parts:
        print("intake …", flush=True)
        results["intake"] = run_intake(ctx, args.intake, args.processes)
    suffix = "" if parts >= {"queue", "api", "search", "intake"} else "-" + "-".join(sorted(parts))
    out = ROOT / "var" / "bench" / f"results-{ctx['vendor']}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
