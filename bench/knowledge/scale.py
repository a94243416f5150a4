"""The dev set at 10 000 articles: quality under padding, search p95 with the query embedding,
index build time (lexical index and vectors) and the memory of the loaded model.

    .venv/bin/python bench/knowledge/scale.py [--articles 10000] [--rounds 2]

The dev set's 150 FAQ articles (issue-11 protocol, see devset.py) are published through the
services; generated procedures (latency.py's generator: seed sentences and templated domain
phrases) pad the base to `--articles`. Then, as a fresh deployment would: the lexical index is
rebuilt and the missing vectors computed (`rebuild_search_index`'s functions, timed
separately), and the dev queries run through `search()` as the operator's screen calls it
(query analysis, embedding, fusion, one SQL query for the texts, highlighting, explain).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_sqlite
from latency import insert_generated, percentiles, timed


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sample_vectors(count: int) -> int:
    """Real vectors for `count` padding versions; the others get copies of those in turn."""
    from otklik.knowledge import semantic
    from otklik.knowledge.models import ArticleVersion
    from otklik.knowledge.services import embeddings_compute

    versions = list(
        ArticleVersion.objects.filter(article__slug__startswith="gen-", embedding__isnull=True)
        .order_by("pk")
        .only("pk", "title", "steps", "body", "embedding", "embedding_model")
    )
    sample = versions[:count]
    for start in range(0, len(sample), 64):
        embeddings_compute(sample[start : start + 64])
    rest = versions[count:]
    for i, version in enumerate(rest):
        version.embedding = sample[i % len(sample)].embedding
        version.embedding_model = semantic.MODEL_NAME
    ArticleVersion.objects.bulk_update(rest, ["embedding", "embedding_model"], batch_size=500)
    print(f"  real vectors for {len(sample)} padding articles, copies for {len(rest)}")
    return len(sample)


def run(queries, limit=10):
    from devset import metrics

    from otklik.knowledge.search import search
    from otklik.knowledge.selectors import STAFF_AUDIENCES

    ranked, times, cpu = [], [], []
    for q, _ in queries:
        result, wall, used = timed(
            search, q, audiences=STAFF_AUDIENCES, role="operator", limit=limit
        )
        times.append(wall)
        cpu.append(used)
        ranked.append([h.slug for h in result.hits])
    run.cpu = cpu  # CPU time of this thread: what a search costs without waiting for a core
    return metrics(ranked, [e for _, e in queries]), times


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--vector-sample",
        type=int,
        default=0,
        help="compute real vectors for only this many padding articles and give the rest "
        "copies of them in turn (for a loaded machine; build time is then extrapolated)",
    )
    args = parser.parse_args()
    os.environ["OTKLIK_TASKS_BACKEND"] = "immediate"
    django_on_fresh_sqlite("otklik_kb_scale")

    from devset import load_clinc, setup

    from otklik.knowledge import semantic
    from otklik.knowledge.index import get_backend
    from otklik.knowledge.services import embeddings_rebuild, search_index_rebuild

    before = rss_mb()
    t = time.perf_counter()
    semantic.embed_query("загрузка модели")
    print(
        f"model load: {time.perf_counter() - t:.2f} s, process RSS {before:.0f} -> "
        f"{rss_mb():.0f} MB (+{rss_mb() - before:.0f} MB)"
    )
    articles, queries, _ = load_clinc()
    setup(articles)
    (t1, t3, mrr), _ = run(queries)
    print(
        f"dev set alone ({len(articles)} articles): top-1 {t1:.3f}, top-3 {t3:.3f}, MRR {mrr:.3f}"
    )

    padding = args.articles - len(articles)
    t = time.perf_counter()
    insert_generated(padding, random.Random(42), product_kinds=False)
    print(f"padding: {padding} generated articles inserted in {time.perf_counter() - t:.1f} s")
    last = [0.0]

    def progress(done, total):
        if done == total or time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  vectors {done}/{total}", flush=True)

    t = time.perf_counter()
    if args.vector_sample:
        computed = sample_vectors(args.vector_sample)
    else:
        computed = embeddings_rebuild(progress=progress)  # the padding's; the dev set's exist
    vectors_s = time.perf_counter() - t
    t = time.perf_counter()
    indexed = search_index_rebuild()  # lexical index; finds no version without a vector
    lexical_s = time.perf_counter() - t
    print(
        f"index build for {indexed} articles: lexical {lexical_s:.1f} s; vectors for "
        f"{computed} versions {vectors_s:.1f} s ({vectors_s / max(computed, 1) * 1000:.1f} ms "
        f"per article, {args.articles / max(computed, 1) * vectors_s:.0f} s for all "
        f"{args.articles} at that rate)"
    )
    t = time.perf_counter()
    get_backend()
    from otklik.knowledge.index import current_generation

    index = semantic.get_index(current_generation())
    print(
        f"in-process load: {time.perf_counter() - t:.2f} s; vectors: articles {len(index)} × "
        f"{semantic.DIMS} float32 {index.matrix.nbytes / 2**20:.0f} MB, lines "
        f"{len(index.lines)} × {semantic.DIMS} float16 {index.lines.nbytes / 2**20:.0f} MB; "
        f"process RSS {rss_mb():.0f} MB"
    )
    times, cpu = [], []
    for _ in range(args.rounds):
        (t1p, t3p, mrrp), round_times = run(queries)
        times += round_times
        cpu += run.cpu
    print(
        f"dev set among {indexed} articles: top-1 {t1p:.3f} ({t1p - t1:+.3f}), top-3 {t3p:.3f}, "
        f"MRR {mrrp:.3f}"
    )
    print(
        f"search ({len(times)}, query embedding included): {percentiles(times)}; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        f"search CPU time of the searching thread: {percentiles(cpu)} "
        "(wall time minus waiting for a core on a loaded machine)"
    )
    print(f"queries: {statistics.mean(len(q.split()) for q, _ in queries):.1f} words on average")


if __name__ == "__main__":
    main()
