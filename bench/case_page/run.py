"""Case page and client card over HTTP, on the production-like server, at 100 000 cases.

Not a test. Builds (or reuses) a separate SQLite database with `generate_load`, gives a
sample of the benchmark operator's cases what a worked case has (a reply, a note, a
contact, some handoffs; order templates and the demo procedures exist), starts the
production server (gunicorn + uvicorn worker, deploy/gunicorn.conf.py; `--server daphne`
for the earlier runs) on 127.0.0.1 and times full page loads with the stdlib HTTP client
in `http_timing.py` (one keep-alive connection, one request at a time, a logged-in
session cookie). The same client times django-helpdesk's ticket page (`helpdesk_run.py`),
so the figures compare; with `--serve` it only serves, for `interleave.py` to time both
apps in turns.

    .venv/bin/python bench/case_page/run.py                    # prepare if needed, measure
    .venv/bin/python bench/case_page/run.py --src /tmp/before/src --label before
        # serve another source tree (e.g. `git archive <commit>`) against the same database

Results go to stdout and var/bench/case-page-<label>-<server>.json; docs/benchmarks.md has them.
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_timing import (  # noqa: E402
    SERVERS,
    hand_over,
    measure,
    server_command,
    wait_for_server,
)

SAMPLE = 100  # cases timed round-robin (and their clients for the card)
HANDOFF_EVERY = 3  # every third sampled case has a handoff to a department


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="var/bench/case-page.sqlite3")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--src", default=str(ROOT / "src"), help="source tree to serve")
    parser.add_argument("--label", default="current")
    parser.add_argument("--server", choices=SERVERS, default="gunicorn")
    parser.add_argument(
        "--serve", action="store_true", help="serve for interleave.py instead of measuring"
    )
    parser.add_argument("--prepare-only", action="store_true")
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    path = (ROOT / args.db).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()


def prepare(args: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from otklik.accounts.models import Department, Role, User
    from otklik.cases.models import Case
    from otklik.demo.load import generate_load

    call_command("migrate", verbosity=0)
    if Case.objects.count() < args.cases:
        print(f"generating {args.clients:,} clients / {args.cases:,} cases …", flush=True)
        started = time.perf_counter()
        generate_load(clients=args.clients, cases=args.cases, seed=7)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
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
    marker = ROOT / args.db.replace(".sqlite3", "-sample.json")
    if marker.exists():
        sample = json.loads(marker.read_text())
    else:
        sample = _work_cases(operator, Department)
        marker.write_text(json.dumps(sample))
    return {
        "operator": operator,
        "sample": sample,
        "cases": Case.objects.count(),
        "clients": _count("clients_client"),
    }


def _work_cases(operator, Department) -> list[dict]:
    """Give sampled open cases of the operator's team what a worked case has."""
    from otklik.cases.models import Case, MessageVisibility
    from otklik.cases.services import interaction_register, message_add
    from otklik.handoffs.services import handoff_send
    from otklik.knowledge.services import search_index_rebuild, seed_procedures
    from otklik.orders.catalogue import order_templates_ensure

    order_templates_ensure()
    seed_procedures()
    search_index_rebuild()
    departments = [
        Department.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in (("security", "Служба безопасности"), ("treasury", "Казначейство"))
    ]
    ids = list(
        Case.objects.filter(is_open=True, team_id=operator.team_id).values_list("pk", flat=True)
    )
    rng = random.Random(7)
    sample = []
    for index, pk in enumerate(sorted(rng.sample(ids, SAMPLE))):
        case = Case.objects.select_related("client").get(pk=pk)
        if case.owner_id is None:
            Case.objects.filter(pk=pk).update(owner=operator)
            case.owner = operator
        message_add(
            actor=operator,
            case=case,
            body="Здравствуйте! Проверили операцию, ответ подготовим сегодня.",
            visibility=MessageVisibility.PUBLIC,
        )
        message_add(
            actor=operator,
            case=case,
            body="Клиент перезвонит после обеда.",
            visibility=MessageVisibility.INTERNAL,
        )
        interaction_register(actor=operator, client=case.client, channel="phone", case=case)
        if index % HANDOFF_EVERY == 0:
            handoff_send(
                actor=operator,
                case=case,
                department=departments[index % 2],
                question="Подтвердите, пожалуйста, статус операции.",
            )
        sample.append({"case": pk, "client": case.client_id})
    return sample


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def serve(args: argparse.Namespace) -> subprocess.Popen:
    src = Path(args.src).resolve()
    env = {
        **os.environ,
        "PYTHONPATH": f"{src}{os.pathsep}{src.parent}",
        "DJANGO_SETTINGS_MODULE": "otklik.settings",
        "DEBUG": "0",
        "OTKLIK_AUDIT_SPOOL_DIR": str(ROOT / "var/bench/case-page-spool"),
    }
    config = str(ROOT / "deploy/gunicorn.conf.py")
    env.pop("REDIS_URL", None)  # SQLite and the in-process store: one process, as `make serve`
    command = server_command(args.server, "otklik.asgi:application", args.port, config=config)
    return subprocess.Popen(
        command,
        cwd=src.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    args = parse_args()
    setup_django(args)
    data = prepare(args)
    if args.prepare_only:
        return
    cookie = session_cookie(data["operator"])
    case_paths = [f"/cases/{s['case']}/" for s in data["sample"]]
    card_paths = [f"/clients/{s['client']}/" for s in data["sample"]]
    server = serve(args)
    try:
        wait_for_server(args.port, case_paths[0], cookie)
        if args.serve:
            hand_over(args.port, cookie, {"case_page": case_paths, "client_card": card_paths})
            return
        results = {
            "label": args.label,
            "src": args.src,
            "server": f"{args.server} (1 process)",
            "database": "SQLite",
            "cases": data["cases"],
            "clients": data["clients"],
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
            "case_page": measure(args.port, case_paths, cookie, args.requests),
            "client_card": measure(args.port, card_paths, cookie, args.requests),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    out = ROOT / f"var/bench/case-page-{args.label}-{args.server}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
