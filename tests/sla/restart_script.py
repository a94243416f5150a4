"""Helper process for test_restart: seed due deadlines, or report what the scan did.

Run as `python restart_script.py seed N` or `python restart_script.py report`, with
DATABASE_URL and DJANGO_SETTINGS_MODULE set by the test.
"""

import json
import sys
from collections import Counter
from datetime import timedelta

import django

django.setup()

from django.utils import timezone  # noqa: E402

from otklik.accounts.models import Role, Team, User  # noqa: E402
from otklik.cases.models import CaseEvent, EventKind  # noqa: E402
from otklik.cases.services import case_open  # noqa: E402
from otklik.clients.models import Client  # noqa: E402
from otklik.live.models import LiveEvent  # noqa: E402
from otklik.notifications.models import Outbox  # noqa: E402
from otklik.sla.models import Deadline  # noqa: E402


def seed(count: int) -> None:
    team = Team.objects.create(name="Вторая линия")
    alice = User.objects.create(
        username="alice", role=Role.OPERATOR, team=team, email="alice@example.org"
    )
    User.objects.create(
        username="olga", role=Role.SENIOR_OPERATOR, team=team, email="olga@example.org"
    )
    User.objects.create(username="sue", role=Role.SUPERVISOR, email="sue@example.org")
    client = Client.objects.create(last_name="Клиентов", first_name="Пётр")
    long_ago = timezone.now() - timedelta(days=10)
    for i in range(count):
        case_open(
            actor=alice,
            client=client,
            subject=f"Обращение {i}",
            channel="phone",
            now=long_ago + timedelta(seconds=i),
        )


def report() -> None:
    deadlines = list(Deadline.objects.values("pk", "breached_at"))
    events = Counter(
        CaseEvent.objects.filter(kind=EventKind.SLA_BREACH).values_list("case_id", flat=True)
    )
    live = Counter(
        (e["payload"]["deadline_id"], e["user_id"])
        for e in LiveEvent.objects.filter(kind="sla_breach").values("payload", "user_id")
    )
    outbox = Counter(key.rsplit("-", 1)[0] for key in Outbox.objects.values_list("key", flat=True))
    print(
        json.dumps(
            {
                "deadlines": len(deadlines),
                "breached": sum(1 for d in deadlines if d["breached_at"]),
                "events_per_case": sorted(events.values()),
                "cases_with_events": len(events),
                "live_per_deadline_user": sorted(set(live.values())),
                "live_pairs": len(live),
                "outbox_per_deadline": sorted(outbox.values()),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]))
    else:
        report()
