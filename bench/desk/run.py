"""The personal manager's desk on a large book: portfolio, call list, health, feed import.

Not a test: a script that builds (or reuses) its own database — one manager with a book
of 2 000 clients (and a covered colleague's 40), 100 000 premium clients in all with a
package level and this month's aggregates — then measures, through Django's test client
(full middleware, session auth, templates):

- the portfolio page for the 2 000-client book, several sorts/filters/searches (p50/p95);
- the call list page for the same manager (p50/p95);
- `health_recompute()` for all 100 000 clients (seconds);
- a feed import of 100 000 rows through `POST /api/desk/feed`, in batches of 20 000
  (seconds, the health recompute of the touched clients included).

    .venv/bin/python bench/desk/run.py --fresh
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otklik_pm \\
        .venv/bin/python bench/desk/run.py
    .venv/bin/python bench/desk/run.py --http --runs 3   # over HTTP on gunicorn (production)
"""

import argparse
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.run_core import setup_django as core_setup_django  # noqa: E402
from bench.run_core import summary  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="var/bench/desk.sqlite3")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--book", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--feed-rows", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--only", default="portfolio,calls,recompute,feed")
    parser.add_argument(
        "--http",
        action="store_true",
        help="measure the portfolio and call list over HTTP on gunicorn + uvicorn workers "
        "(deploy/gunicorn.conf.py), the production server, instead of in-process",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes (--http)")
    parser.add_argument("--port", type=int, default=8132, help="server port (--http)")
    parser.add_argument("--runs", type=int, default=3, help="repeat runs (--http): best and range")
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    # The test client's host is "testserver": development settings accept it.
    os.environ.setdefault("DEBUG", "1")
    core_setup_django(args)


def build(args: argparse.Namespace) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from otklik.accounts.models import Role, User
    from otklik.cases.models import Case
    from otklik.clients.models import Client, ClientSearchTerm, Segment
    from otklik.common.text import normalize
    from otklik.demo import names
    from otklik.relationship.catalogue import desk_rules_ensure
    from otklik.relationship.health import month_start
    from otklik.relationship.models import Absence, Metric, MetricValue, Relationship

    call_command("migrate", verbosity=0)
    if User.objects.filter(username="bench_manager").exists():
        return
    started = time.perf_counter()
    rng = random.Random(7)
    levels = list(desk_rules_ensure().values())
    manager = User.objects.create_user(
        "bench_manager", password="pass-12345", role=Role.PERSONAL_MANAGER, first_name="Евгений"
    )
    colleague = User.objects.create_user(
        "bench_colleague", password="x", role=Role.PERSONAL_MANAGER, first_name="Марина"
    )
    others = [
        User.objects.create_user(f"bench_pm{i}", password="x", role=Role.PERSONAL_MANAGER)
        for i in range(48)
    ]
    today = timezone.localdate()
    Absence.objects.create(
        manager=colleague,
        deputy=manager,
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=5),
    )
    metrics = {m.code: m for m in Metric.objects.all()}
    month = month_start(today)
    now = timezone.now()
    made = 0
    while made < args.clients:
        chunk = []
        for i in range(made, min(made + 5000, args.clients)):
            if i < args.book:
                owner = manager
            elif i < args.book + 40:
                owner = colleague
            else:
                owner = others[i % len(others)]
            female = rng.random() < 0.45
            chunk.append(
                Client(
                    last_name=names.surname_for(rng.choice(names.SURNAMES), female=female),
                    first_name=rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES),
                    patronymic=rng.choice(names.PATRONYMICS)[1 if female else 0],
                    segment=Segment.PREMIUM,
                    birth_date=today.replace(year=1970 + i % 30) - timedelta(days=i % 365),
                    personal_manager=owner,
                )
            )
        created = Client.objects.bulk_create(chunk, batch_size=1000)
        terms = []
        for c in created:
            if c.personal_manager_id in (manager.pk, colleague.pk):
                last, first = normalize(c.last_name), normalize(c.first_name)
                terms += [
                    ClientSearchTerm(client=c, term=t) for t in (last, first, f"{first} {last}")
                ]
        ClientSearchTerm.objects.bulk_create(terms, batch_size=2000)
        Relationship.objects.bulk_create(
            [Relationship(client=c, package_level=levels[c.pk % len(levels)]) for c in created],
            batch_size=2000,
        )
        values = []
        for c in created:
            spend = rng.randrange(40_000, 400_000)
            for code, period, value in (
                ("card_spend", month, spend),
                ("balance", today, rng.randrange(100_000, 4_000_000)),
                ("uses_app", month, 1 if rng.random() < 0.9 else 0),
                ("salary_credited", month, 1 if rng.random() < 0.7 else 0),
            ):
                values.append(
                    MetricValue(
                        client=c,
                        metric=metrics[code],
                        period=period,
                        value=Decimal(value),
                        updated_at=now,
                    )
                )
        MetricValue.objects.bulk_create(values, batch_size=2000)
        made += len(chunk)
    # Open cases on a tenth of the book, for the portfolio's count.
    book = list(Client.objects.filter(personal_manager=manager).values_list("pk", flat=True))
    Case.objects.bulk_create(
        [
            Case(
                client_id=pk,
                subject="Вопрос",
                channel="phone",
                owner=manager,
                created_at=now,
                updated_at=now,
            )
            for pk in book[::10]
        ]
    )
    from otklik.relationship.health import health_recompute

    health_recompute()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"built {args.clients} clients in {time.perf_counter() - started:.1f} s", flush=True)


def measure(args: argparse.Namespace) -> dict:
    from django.db import connection
    from django.test import Client as HttpClient
    from django.utils import timezone

    from otklik.accounts.models import User
    from otklik.clients.models import Client
    from otklik.relationship.health import health_recompute, month_start

    # Wall time and this process's CPU time: on SQLite (in-process) the CPU time is the
    # request's own cost, whatever else the shared machine is running.
    results: dict = {"vendor": connection.vendor, "load_average": os.getloadavg()}
    manager = User.objects.get(username="bench_manager")
    http = HttpClient()
    http.force_login(manager)
    combos = [
        {},
        {"sort": "health"},
        {"sort": "last_contact"},
        {"sort": "open_cases"},
        {"sort": "shortfall"},
        {"sort": "next_contact", "level": "black"},
        {"q": "иван"},
        {"page": "20"},
    ]
    if "portfolio" in args.only:
        for combo in combos:  # warm-up
            assert http.get("/desk/", combo).status_code == 200
        times, cpu = [], []
        for i in range(args.requests):
            t, c = time.perf_counter(), time.process_time()
            response = http.get("/desk/", combos[i % len(combos)])
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            assert response.status_code == 200
        results["portfolio"] = {**summary(times), "cpu": summary(cpu)}
        print("portfolio", results["portfolio"], flush=True)

    if "calls" in args.only:
        http.get("/desk/calls")
        times, cpu = [], []
        for _ in range(max(20, args.requests // 3)):
            t, c = time.perf_counter(), time.process_time()
            response = http.get("/desk/calls")
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            assert response.status_code == 200
        results["call_list"] = {**summary(times), "cpu": summary(cpu)}
        print("call list", results["call_list"], flush=True)

    if "recompute" in args.only:
        t, c = time.perf_counter(), time.process_time()
        done = health_recompute()
        results["recompute"] = {
            "clients": done,
            "seconds": round(time.perf_counter() - t, 1),
            "cpu_seconds": round(time.process_time() - c, 1),
        }
        print("recompute", results["recompute"], flush=True)

    if "feed" in args.only:
        supervisor, _ = User.objects.get_or_create(
            username="bench_supervisor", defaults={"role": "supervisor"}
        )
        http.force_login(supervisor)
        ids = list(Client.objects.order_by("pk").values_list("pk", flat=True)[: args.feed_rows])
        month = month_start(timezone.localdate()).strftime("%Y-%m")
        rows = [
            {"client_id": pk, "metric": "card_spend", "period": month, "value": 50_000 + pk % 9}
            for pk in ids
        ]
        # The day's feed in batches of the API's maximum (20 000 rows a request).
        from otklik.relationship.api import API_MAX_ROWS

        stamp = time.time()
        applied = clients = 0
        t, c = time.perf_counter(), time.process_time()
        for n, start in enumerate(range(0, len(rows), API_MAX_ROWS)):
            part = rows[start : start + API_MAX_ROWS]
            body = json.dumps({"batch_id": f"bench-{stamp}-{n}", "rows": part})
            response = http.post("/api/desk/feed", body, content_type="application/json")
            assert response.status_code == 200, response.content[:500]
            applied += response.json()["rows"]
            clients += response.json()["recomputed"]
        elapsed = time.perf_counter() - t
        results["feed_api"] = {
            "rows": applied,
            "requests": n + 1,
            "seconds": round(elapsed, 1),
            "cpu_seconds": round(time.process_time() - c, 1),
            "recomputed": clients,
        }
        print("feed api", results["feed_api"], flush=True)
    return results


PORTFOLIO_URLS = [
    "/desk/",
    "/desk/?sort=health",
    "/desk/?sort=last_contact",
    "/desk/?sort=open_cases",
    "/desk/?sort=shortfall",
    "/desk/?sort=next_contact&level=black",
    "/desk/?q=%D0%B8%D0%B2%D0%B0%D0%BD",
    "/desk/?page=20",
]


def measure_http(args: argparse.Namespace) -> dict:
    """The two pages as a user gets them: whole HTTP responses from gunicorn with uvicorn
    workers over loopback, one keep-alive connection, the manager's session cookie; the
    server's CPU per request (all its processes, from /proc) beside the wall times."""
    from django.db import connection

    from bench.http.run import Http, server_cpu_seconds, session_cookie, start_server
    from otklik.accounts.models import User

    manager = User.objects.get(username="bench_manager")
    cookie = session_cookie(manager)
    results: dict = {"vendor": connection.vendor, "server": "gunicorn+uvicorn"}
    connection.close()
    os.environ.pop("DEBUG", None)  # the production server runs without DEBUG
    args.server = "gunicorn"
    server = start_server(args, args.port)
    try:
        web = Http(args.port, cookie=cookie)
        pages = {"portfolio": PORTFOLIO_URLS, "call_list": ["/desk/calls"]}
        for name, urls in pages.items():
            for url in urls * 2:  # warm-up: both workers, templates, caches
                _, status, _, _ = web.call("GET", url)
                assert status == 200, (url, status)
            runs = []
            for _run in range(args.runs):
                load = os.getloadavg()[0]
                cpu = server_cpu_seconds(server.pid)
                n = args.requests if name == "portfolio" else max(20, args.requests // 3)
                times = [web.call("GET", urls[i % len(urls)])[0] for i in range(n)]
                used = server_cpu_seconds(server.pid) - cpu
                runs.append(
                    {
                        **summary(times),
                        "server_cpu_ms_per_request": round(used * 1000 / n, 1),
                        "load_1min": round(load, 1),
                    }
                )
                print(name, runs[-1], flush=True)
            p95 = [r["p95_ms"] for r in runs]
            results[name] = {
                "runs": runs,
                "best_p95_ms": min(p95),
                "p95_range_ms": [min(p95), max(p95)],
                "cpu_ms_range": [
                    min(r["server_cpu_ms_per_request"] for r in runs),
                    max(r["server_cpu_ms_per_request"] for r in runs),
                ],
            }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return results


def main() -> None:
    args = parse_args()
    setup_django(args)
    build(args)
    from django.db import connection

    if args.http:
        results = measure_http(args)
        out = ROOT / "var" / "bench" / f"desk-http-{connection.vendor}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        print(f"written {out}")
        return
    results = measure(args)
    out = ROOT / "var" / "bench" / f"desk-{connection.vendor}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written {out}")


if __name__ == "__main__":
    main()
