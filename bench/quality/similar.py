"""Similar-proposal suggestions: latency of one suggestion request by number of proposals.

Not a test. The suggestion runs on every pause in typing (400 ms debounce), over every
proposal's stored lemmas, in Python (TF-IDF cosine). Builds a separate SQLite database with
N synthetic proposals (sentences recombined from the five stories' proposals), then times
`similar_proposals` for a set of typed problems.

    DEBUG=1 .venv/bin/python bench/quality/similar.py --sizes 500 2000 10000
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PHRASES = [
    "клиент ошибся в адресе доставки карты",
    "дать два часа на исправление адреса",
    "автообмен валюты в момент зачисления зарплаты",
    "курс меняется между проверками остатка",
    "буфер партнёрских карт для перевыпуска",
    "опции интернета на архивных тарифах",
    "резервирование денег на балансе при посекундной тарификации",
    "ответ в личный кабинет в течение суток",
    "закрытие ИИС распоряжением с подписью в ЛК",
    "звонки с коротких номеров не доходят за границу",
    "особый порядок разблокировки карты",
    "уведомление в налоговую о закрытии счёта",
]
QUERIES = [
    "Исправить адрес доставки после заказа",
    "Автообмен зарплаты сразу при поступлении",
    "Интернет на старых тарифах",
    "Клиент за границей не получает звонки",
    "Перезвоните через два дня — ответ в ЛК",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 10000])
    parser.add_argument("--db", default="var/bench/quality.sqlite3")
    args = parser.parse_args()
    db = ROOT / args.db
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from otklik.accounts.models import User
    from otklik.proposals.models import Proposal
    from otklik.proposals.selectors import proposal_terms, similar_proposals

    user = User.objects.create(username="bench", role="operator")
    rng = random.Random(7)
    made = 0
    now = timezone.now()
    for size in sorted(args.sizes):
        rows = []
        while made < size:
            title, problem, text = (" ".join(rng.sample(PHRASES, 2)) for _ in range(3))
            rows.append(
                Proposal(
                    title=title[:200],
                    problem=problem,
                    proposal=text,
                    author=user,
                    terms=proposal_terms(title, problem, text),
                    created_at=now,
                    updated_at=now,
                )
            )
            made += 1
        Proposal.objects.bulk_create(rows, batch_size=1000)
        timings = []
        for _round in range(3):
            for query in QUERIES:
                start = time.perf_counter()
                similar_proposals(user=user, text=query)
                timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(
            f"{size:>6} proposals: median {statistics.median(timings):7.1f} ms, "
            f"p95 {p95:7.1f} ms, max {timings[-1]:7.1f} ms"
        )


if __name__ == "__main__":
    main()
