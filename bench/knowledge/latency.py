"""p50/p95 search latency over 10 000 generated articles on the embedded default (SQLite).

    .venv/bin/python bench/knowledge/latency.py [--articles 10000] [--rounds 3]

Articles are composed from the seed procedures' sentences and templated domain phrases, so
the vocabulary and term frequencies look like a real knowledge base, not random words.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_sqlite
from evaluate import load_queries

ACTIONS = [
    "Закрытие",
    "Открытие",
    "Перевыпуск",
    "Блокировка",
    "Разблокировка",
    "Смена",
    "Подключение",
    "Отключение",
    "Возврат",
    "Перевод",
    "Изменение",
    "Продление",
    "Погашение",
    "Оформление",
    "Восстановление",
    "Отмена",
    "Проверка",
    "Пополнение",
]
OBJECTS = [
    "карты",
    "ИИС",
    "брокерского счёта",
    "вклада",
    "пакета услуг",
    "тарифа",
    "мобильного интернета",
    "займа",
    "паёв ОПИФ",
    "паёв ЗПИФ",
    "БПИФ «Денежный рынок»",
    "автообмена",
    "кредитной карты",
    "доверенности",
    "номера телефона",
    "роуминга",
    "подписки",
    "кэшбэка",
    "лимита по карте",
    "накопительного счёта",
    "страховки",
    "налогового вычета",
    "доступа в личный кабинет",
]
QUALIFIERS = [
    "для премиальных клиентов",
    "в офисе",
    "по доверенности",
    "при аресте счёта",
    "для нерезидентов",
    "в роуминге",
    "для зарплатных клиентов",
    "через чат",
    "по телефону 900",
    "в мобильном приложении",
    "при смене фамилии",
    "для несовершеннолетних",
    "после утери",
    "при заблокированных активах",
    "по решению суда",
    "в выходные дни",
    "с комиссией",
]
TEMPLATES = [
    "Проверьте в карточке клиента {obj} и статус договора.",
    "Уточните у клиента, когда была подана заявка на {act} {obj}.",
    "Если {obj} недоступен, оформите запрос в профильное подразделение и возьмите на контроль.",
    "Сообщите клиенту срок: ответ придёт в личный кабинет в течение суток.",
    "{act} {obj} выполняется {qual}; комиссия зависит от тарифа.",
    "Клиенты часто спрашивают про {obj}, если не видят операцию в приложении.",
    "Не просите клиента перезвонить: зафиксируйте обращение и сообщите результат сами.",
    "Для {obj} действует ограничение по сумме; превышение согласует казначейство.",
    "Служба безопасности может запросить подтверждение операции звонком на 900.",
]


def generate(n: int, seed_sentences: list[str], rng: random.Random):
    for i in range(n):
        act, obj, qual = rng.choice(ACTIONS), rng.choice(OBJECTS), rng.choice(QUALIFIERS)
        title = f"{act} {obj} {qual}"

        def fill(t: str, act=act, obj=obj, qual=qual) -> str:
            return t.format(act=act.lower(), obj=rng.choice([obj, *OBJECTS]), qual=qual)

        steps = [fill(rng.choice(TEMPLATES)) for _ in range(rng.randint(3, 6))]
        body = " ".join(
            rng.choice(seed_sentences) if rng.random() < 0.6 else fill(rng.choice(TEMPLATES))
            for _ in range(rng.randint(6, 14))
        )
        yield f"gen-{i:05d}", title, steps, body


def seed_sentences() -> list[str]:
    """The seed procedures' sentences of more than three words: the generator's filler."""
    from otklik.knowledge.seed import load_data

    return [
        s.strip() + "."
        for a in load_data()["articles"]
        for s in (" ".join(a["steps"]) + " " + a["body"]).split(".")
        if len(s.split()) > 3
    ]


def insert_generated(count: int, rng: random.Random, *, product_kinds: bool = True) -> None:
    """`count` generated procedures, published (version 1), inserted in bulk without
    indexing: the caller rebuilds the index (and vectors) and times that separately."""
    from django.db import transaction

    from otklik.knowledge.models import Article, ArticleStatus, ArticleVersion

    sentences = seed_sentences()
    with transaction.atomic():
        batch = list(generate(count, sentences, rng))
        articles = Article.objects.bulk_create(
            [
                Article(
                    kind="procedure",
                    audience=rng.choice(["internal", "both", "client"]),
                    title=title,
                    slug=slug,
                    status=ArticleStatus.PUBLISHED,
                    product_kinds=(
                        rng.sample(["card", "iis", "loan", "bank_account"], 1)
                        if product_kinds
                        else []
                    ),
                )
                for slug, title, _, _ in batch
            ],
            batch_size=1000,
        )
        versions = ArticleVersion.objects.bulk_create(
            [
                ArticleVersion(article=a, number=1, title=t, steps=s, body=b, is_published=True)
                for a, (_, t, s, b) in zip(articles, batch, strict=True)
            ],
            batch_size=1000,
        )
        for a, v in zip(articles, versions, strict=True):
            a.published_version = v
        Article.objects.bulk_update(articles, ["published_version"], batch_size=1000)


def timed(fn, *args, **kwargs) -> tuple[object, float, float]:
    """(result, wall ms, CPU ms of this thread): the CPU time is what the call itself cost,
    without the waiting for a core that dominates wall time on a loaded machine."""
    started, started_cpu = time.perf_counter(), time.thread_time()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - started) * 1000, (time.thread_time() - started_cpu) * 1000


def percentiles(timings: list[float]) -> str:
    """«p50 … ms, p95 … ms, p99 … ms, max … ms» of a list of milliseconds."""
    ordered = sorted(timings)
    q = statistics.quantiles(ordered, n=100)
    return f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms, max {ordered[-1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    django_on_fresh_sqlite("otklik_kb_latency")

    from otklik.knowledge.index import get_backend
    from otklik.knowledge.search import search
    from otklik.knowledge.selectors import STAFF_AUDIENCES
    from otklik.knowledge.services import search_index_rebuild, seed_procedures

    seed_procedures()
    rng = random.Random(42)
    t0 = time.perf_counter()
    insert_generated(args.articles, rng)
    t1 = time.perf_counter()
    indexed = search_index_rebuild()
    t2 = time.perf_counter()
    get_backend()  # load the in-process index
    t3 = time.perf_counter()

    queries = [q for q, _ in load_queries()]
    typing = [q[: max(3, len(q) // 2)] for q in queries[::3]]  # half-typed, as-you-type
    timings = []
    for _ in range(args.rounds):
        for query in queries:
            timings.append(timed(search, query, audiences=STAFF_AUDIENCES, limit=10)[1])
        for query in typing:
            timings.append(
                timed(search, query, audiences=STAFF_AUDIENCES, limit=10, as_you_type=True)[1]
            )
    print(f"articles indexed: {indexed}")
    print(
        f"generate+insert: {t1 - t0:.1f} s, index rebuild: {t2 - t1:.1f} s, "
        f"in-process index load: {t3 - t2:.2f} s"
    )
    print(f"searches: {len(timings)} (full queries and half-typed ones, with highlighting)")
    print(percentiles(timings))
    suggestions(queries, rng, args.rounds)


def suggestions(queries: list[str], rng: random.Random, rounds: int) -> None:
    """Case suggestions as the case page asks for them: `suggest_for_case` end to end
    (client's products and restrictions, the case's notes, search, highlighting)."""
    from otklik.accounts.models import Role, User
    from otklik.cases.models import MessageVisibility, Topic
    from otklik.cases.services import case_open, message_add
    from otklik.clients.services import client_create, product_create, restriction_place
    from otklik.knowledge.selectors import suggest_for_case

    operator = User.objects.create_user(username="bench-op", role=Role.OPERATOR)
    person = client_create(last_name="Кузнецов", first_name="Игорь", phones=["+7 916 482-17-35"])
    iis = product_create(
        client=person, kind="iis", name="ИИС", details={"iis_type": 1, "deduction_type": "A"}
    )
    units = product_create(
        client=person,
        kind="fund_units",
        parent=iis,
        name="ОПИФ",
        details={"fund_type": "opif", "units": "10", "frozen": True},
    )
    restriction_place(product=units, kind="sanctions_freeze", reason="санкции")
    topic, _ = Topic.objects.get_or_create(name="Закрытие ИИС")
    notes = [q for q in queries if len(q.split()) >= 4]
    cases = []
    for i, subject in enumerate(queries[:60]):
        case = case_open(
            actor=operator,
            client=person,
            subject=subject[:300],
            channel="phone",
            topic=topic if i % 2 else None,
        )
        message_add(
            actor=operator,
            case=case,
            visibility=MessageVisibility.INTERNAL,
            body=" ".join(rng.sample(notes, 3)),
        )
        cases.append(case)
    timings, first_views = [], []
    for round_no in range(rounds):
        for case in cases:
            timings.append(timed(suggest_for_case, user=operator, case=case, limit=5)[1])
            if round_no == 0:
                first_views.append(timings[-1])
    print(f"case suggestions: {len(timings)} (60 cases: subject, topic, a note of ~20 words)")
    print(percentiles(timings))
    # Nothing is cached per case; round 1 alone is each case's first view (the target's case).
    first = statistics.quantiles(sorted(first_views), n=100)
    print(
        f"first view of each case (round 1 only, {len(first_views)}): "
        f"p50 {first[49]:.1f} ms, p95 {first[94]:.1f} ms, max {max(first_views):.1f} ms"
    )


if __name__ == "__main__":
    main()
