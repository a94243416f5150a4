"""Top-1 / top-3 / MRR on the labelled queries for: plain word match, our search, and
PostgreSQL's built-in 'russian' full-text configuration ranked by ts_rank.

    .venv/bin/python bench/knowledge/evaluate.py [--failures]

Our search runs on a fresh SQLite database (set DATABASE_URL to run it elsewhere); the
PostgreSQL baseline uses KB_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

import csv
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_sqlite

HERE = Path(__file__).resolve().parent
PG = os.environ.get("KB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
WORD = re.compile(r"[a-zа-яё0-9]+", re.IGNORECASE)


def load_queries() -> list[tuple[str, str]]:
    with (HERE / "eval_queries.csv").open(encoding="utf-8") as fh:
        return [(row["query"], row["expected"]) for row in csv.DictReader(fh)]


def metrics(ranked: list[list[str]], expected: list[str]) -> tuple[float, float, float]:
    top1 = top3 = rr = 0.0
    for slugs, want in zip(ranked, expected, strict=True):
        if want in slugs[:10]:
            pos = slugs.index(want) + 1
            rr += 1 / pos
            top1 += pos == 1
            top3 += pos <= 3
    n = len(expected)
    return top1 / n, top3 / n, rr / n


def words(text: str) -> set[str]:
    return {w.lower().replace("ё", "е") for w in WORD.findall(text)}


def plain_match(queries, docs):
    """Naive baseline: count of distinct query words present verbatim (case and ё folded)."""
    doc_words = {slug: words(text) for slug, _, text in docs}
    out = []
    for query, _ in queries:
        q = words(query)
        scored = [(len(q & w), slug) for slug, w in doc_words.items() if q & w]
        out.append([slug for _, slug in sorted(scored, key=lambda s: (-s[0], s[1]))])
    return out


def our_search(queries):
    from otklik.knowledge.search import search
    from otklik.knowledge.selectors import STAFF_AUDIENCES

    return [
        # As a supervisor: every article, including role-limited ones, is a fair answer.
        [
            h.slug
            for h in search(q, audiences=STAFF_AUDIENCES, role="supervisor", highlight=False).hits
        ]
        for q, _ in queries
    ]


def postgres_russian(queries, docs, mode: str):
    import psycopg

    tsquery = {
        "websearch": "websearch_to_tsquery('russian', %(q)s)",
        "plainto": "plainto_tsquery('russian', %(q)s)",
        "plainto_or": "replace(plainto_tsquery('russian', %(q)s)::text, '&', '|')::tsquery",
    }[mode]
    out = []
    with psycopg.connect(PG, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE kb_docs (slug text, title text, body text)")
        cur.executemany("INSERT INTO kb_docs VALUES (%s, %s, %s)", docs)
        vector = (
            "setweight(to_tsvector('russian', title), 'A') || "
            "setweight(to_tsvector('russian', body), 'B')"
        )
        for query, _ in queries:
            cur.execute(
                f"SELECT slug FROM (SELECT slug, ts_rank({vector}, q) AS r FROM kb_docs, "
                f"(SELECT {tsquery} AS q) AS qq WHERE {vector} @@ q) s "
                "ORDER BY r DESC, slug LIMIT 10",
                {"q": query},
            )
            out.append([r[0] for r in cur.fetchall()])
    return out


def main() -> None:
    django_on_fresh_sqlite("otklik_kb_eval")
    from otklik.knowledge.models import ArticleSearchDoc
    from otklik.knowledge.services import seed_procedures

    seed_procedures()
    docs = [
        (d.slug, d.title, f"{d.steps_text}\n{d.body_text}") for d in ArticleSearchDoc.objects.all()
    ]
    queries = load_queries()
    expected = [e for _, e in queries]
    rows = [
        ("Plain word match (token overlap)", plain_match(queries, docs)),
        ("PostgreSQL 'russian', websearch_to_tsquery + ts_rank", None),
        ("PostgreSQL 'russian', plainto_tsquery + ts_rank", None),
        ("PostgreSQL 'russian', plainto_tsquery with OR + ts_rank", None),
        ("Otklik search (lemmas, synonyms, typos, layout; BM25)", our_search(queries)),
    ]
    for i, mode in ((1, "websearch"), (2, "plainto"), (3, "plainto_or")):
        try:
            rows[i] = (rows[i][0], postgres_russian(queries, docs, mode))
        except Exception as exc:  # no PostgreSQL here: report, do not fail the bench
            rows[i] = (f"{rows[i][0]} (unavailable: {exc.__class__.__name__})", None)
    print(f"{len(queries)} queries, {len(docs)} articles\n")
    print("| method | top-1 | top-3 | MRR |\n|---|---|---|---|")
    for name, ranked in rows:
        if ranked is None:
            print(f"| {name} | – | – | – |")
            continue
        t1, t3, mrr = metrics(ranked, expected)
        print(f"| {name} | {t1:.1%} | {t3:.1%} | {mrr:.3f} |")
    if "--failures" in sys.argv:
        print("\nOur misses at top-1:")
        for (query, want), got in zip(queries, rows[-1][1], strict=True):
            if not got or got[0] != want:
                print(f"  {query!r}: want {want}, got {got[:3]}")


if __name__ == "__main__":
    main()
