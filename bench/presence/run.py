"""What presence costs: database queries per page view, and the store's time per heartbeat.

Not a test. Builds a throwaway SQLite database (or uses DATABASE_URL), opens one case page
and one client card through Django's test client while 0, 1, 5 and 20 other members of
staff are present on them (entries in the presence store, each with a saved draft), and
counts the queries of each view with `CaptureQueriesContext`. Then times the presence
store: one heartbeat (touch) and one list read (members) with 20 people present, in
process memory and, when REDIS_URL is set, in Redis.

    DEBUG=1 .venv/bin/python bench/presence/run.py
    DEBUG=1 REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/presence/run.py
"""

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/presence-bench.sqlite3"
os.environ.setdefault("OTKLIK_PRESENCE_PREFIX", f"bench-presence:{uuid.uuid4().hex[:8]}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

PEOPLE = (0, 1, 5, 20)


def build():
    from otklik.accounts.models import Role
    from otklik.cases.services import message_add
    from tests.factories import TeamFactory, UserFactory, make_case

    team = TeamFactory(name=f"Bench {uuid.uuid4().hex[:6]}")
    viewer = UserFactory(username=f"viewer-{uuid.uuid4().hex[:6]}", role=Role.OPERATOR, team=team)
    others = [
        UserFactory(username=f"other-{i}-{uuid.uuid4().hex[:6]}", role=Role.OPERATOR, team=team)
        for i in range(max(PEOPLE))
    ]
    case = make_case(actor=viewer, subject="Закрыть ИИС")
    message_add(actor=viewer, case=case, body="Здравствуйте", visibility="public")
    message_add(actor=viewer, case=case, body="заметка", visibility="internal")
    return viewer, others, case


def _is_presence(sql: str) -> bool:
    """The presence app's own queries: drafts, and the reply forms' seen marker."""
    marker = 'AS "pk" FROM "cases_caseevent"' in sql and "DESC LIMIT 1" in sql
    return marker or "presence_" in sql


def count_queries(client: Client, url: str) -> tuple[int, int]:
    client.get(url)  # warm per-process caches (topics, configuration generations)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    sqls = [q["sql"] for q in captured.captured_queries]
    return len(sqls), sum(1 for sql in sqls if _is_presence(sql))


def queries_table(viewer, others, case) -> list[tuple]:
    from otklik.presence.services import draft_save, presence_touch
    from otklik.presence.store import get_store

    client = Client()
    client.force_login(viewer)
    rows = []
    for n in PEOPLE:
        get_store().clear()
        for i, user in enumerate(others[:n]):
            presence_touch(scope=f"case:{case.pk}", tab=f"t{i}", user=user, typing="reply")
            presence_touch(scope=f"client:{case.client_id}", tab=f"t{i}", user=user)
            draft_save(user=user, case=case, kind="message", body=f"черновик {i}")
        case_page = count_queries(client, reverse("workspace:case_detail", args=[case.pk]))
        card = count_queries(client, reverse("workspace:client_card", args=[case.client_id]))
        rows.append((n, case_page, card))
    return rows


def time_store(store, people: int = 20, rounds: int = 2000) -> tuple[float, float]:
    scope = f"case:{uuid.uuid4().hex[:6]}"
    for i in range(people):
        store.touch(scope, f"{i}:t", {"user": i, "name": f"User {i}", "since": time.time()})
    touch, read = [], []
    for r in range(rounds):
        started = time.perf_counter()
        store.touch(scope, f"{r % people}:t", {"user": r % people, "name": "x", "since": 0})
        touch.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert len(store.members(scope)) == people
        read.append(time.perf_counter() - started)
    return statistics.median(touch) * 1e6, statistics.median(read) * 1e6


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    viewer, others, case = build()
    print(f"database: {connection.vendor}")
    print("people present | case page queries (presence's) | client card queries (presence's)")
    for n, (case_page, case_own), (card, card_own) in queries_table(viewer, others, case):
        print(f"{n:>14} | {case_page:>9} ({case_own}) | {card:>9} ({card_own})")

    from django.conf import settings

    from otklik.presence.store import MemoryPresenceStore, RedisPresenceStore

    stores = [("memory", MemoryPresenceStore())]
    if settings.REDIS_URL:
        stores.append(("redis", RedisPresenceStore(settings.REDIS_URL, "bench-presence-store")))
    print("store | heartbeat (touch) median µs | list of 20 (members) median µs")
    for name, store in stores:
        touch_us, read_us = time_store(store)
        print(f"{name} | {touch_us:.1f} | {read_us:.1f}")
        store.clear()


if __name__ == "__main__":
    main()
