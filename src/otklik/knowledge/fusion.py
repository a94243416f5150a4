"""Hybrid ranking: the lexical BM25 channel fused with sentence-embedding similarity.

Each candidate (the best lexical matches and the nearest vectors among the documents the
reader may see) gets FEATURES — the article vector's cosine, its gap to the best one and its
z-score among the visible articles; BM25 relative to the query's best, the share of the
query's idf mass it covers and its lexical rank; the cosine of its nearest single line (title,
step, example question) and that line's gap to the best candidate's — and a logistic model
turns them into the probability that it is the right article. The weights were fitted on the
issue-11 dev set and the seed set with cross-validation (bench/knowledge/fusion_fit.py;
figures and the features tried and dropped in docs/knowledge-benchmarks.md); the
probability is also what the chat bot's thresholds read, so "confident" means the same
thing everywhere.
"""

import heapq
import math
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from otklik.knowledge import semantic
from otklik.knowledge.index import CorpusStats, DocMeta

POOL = 40  # candidates taken from each channel

# Logistic weights over FEATURES, fitted by bench/knowledge/fusion_fit.py on the dev set
# (ru_clinc150, with its OOS) and the seed set (bench/knowledge/eval_queries.csv) together.
# Kept: the features that raised the cross-validated top-1 (docs/knowledge-benchmarks.md).
FEATURES = (
    "cosine",
    "cosine_gap",
    "lexical",
    "coverage",
    "lexical_first",
    "cosine_z",
    "line_best",
    "line_gap",
)
# Every feature `candidates` computes; fusion_fit.py compares subsets of them (KB_FEATURES).
ALL_FEATURES = (*FEATURES, "semantic_first", "specific")
WEIGHTS = (-2.29, 6.8, -0.43, 2.85, 2.15, 0.78, 4.39, 4.24)
BIAS = -6.24
# A document no query word matched is listed only from this probability on, so nonsense
# does not fill the result list with the nearest vectors.
MIN_SEMANTIC_ONLY = 0.02


@dataclass
class Candidate:
    meta: DocMeta
    bm25: float
    cosine: float
    cosine_gap: float
    lexical: float
    coverage: float
    lexical_first: float = 0.0  # 1 for the best BM25 match, 1/2 for the second, … 0 if none
    cosine_z: float = 0.0  # cosine in standard deviations above the visible articles' mean
    semantic_first: float = 0.0  # 1 for the nearest vector, 1/2 for the second, … 0 beyond
    specific: float = 0.0  # holds the query's rarest word (1) … only common ones (→ 0)
    line_best: float = 0.0  # cosine of the article's line (title, step, example) nearest
    line_gap: float = 0.0  # … minus the best such line among the candidates
    probability: float = 0.0

    def features(self, names: tuple[str, ...] = FEATURES) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in names)


def probability(features: tuple[float, ...]) -> float:
    z = BIAS + sum(w * x for w, x in zip(WEIGHTS, features, strict=True))
    return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))


def _visible(meta: DocMeta, audiences: frozenset[str], role: str | None) -> bool:
    return meta.audience in audiences and (not meta.roles or role in meta.roles)


def _metas(store, pks: list[int]) -> dict[int, DocMeta]:
    load = getattr(store, "load_metas", None)
    if load is not None:
        load(pks)
    return {pk: store.meta(pk) for pk in pks}


def candidates(
    acc: dict[int, float],
    covered: dict[int, float],
    specific: dict[int, float],
    store,
    index: "semantic.SemanticIndex",
    query_vector: np.ndarray,
    *,
    audiences: frozenset[str],
    role: str | None,
    pool: int = POOL,
) -> list[Candidate]:
    """The visible documents worth scoring: top `pool` by BM25 and top `pool` by cosine."""
    cosines = index.cosines(query_vector)
    visible_rows = index.visible_rows(audiences, role)
    chosen: dict[int, None] = {}
    mean = spread = 0.0
    semantic_rank: dict[int, int] = {}
    if len(visible_rows):
        sims = cosines[visible_rows]
        mean, spread = float(sims.mean()), float(sims.std()) or 1.0
        k = min(pool, len(sims))
        best = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        best = best[np.argsort(-sims[best], kind="stable")]
        for i, row in enumerate(visible_rows[best]):
            chosen[int(index.pks[row])] = None
            semantic_rank[int(index.pks[row])] = i
    lexical_top = heapq.nlargest(pool * 4, acc.items(), key=itemgetter(1))
    metas = _metas(store, [pk for pk, _ in lexical_top])
    lexical_visible = [pk for pk, _ in lexical_top if _visible(metas[pk], audiences, role)]
    for pk in lexical_visible[:pool]:
        chosen[pk] = None
    metas.update(_metas(store, [pk for pk in chosen if pk not in metas]))
    best_bm25 = max((acc[pk] for pk in lexical_visible[:1]), default=0.0) or 1.0
    best_cosine = float(cosines[visible_rows].max()) if len(visible_rows) else 0.0
    lexical_rank = {pk: i for i, pk in enumerate(lexical_visible[:pool])}
    with_rows = [pk for pk in chosen if pk in index.row_of]
    line_best = dict(
        zip(
            with_rows,
            index.best_lines([index.row_of[pk] for pk in with_rows], query_vector).tolist(),
            strict=True,
        )
    )
    best_line = max(line_best.values(), default=0.0)
    out = []
    for pk in chosen:
        row = index.row_of.get(pk)
        line = line_best.get(pk, 0.0)
        cosine = float(cosines[row]) if row is not None else 0.0
        bm25 = acc.get(pk, 0.0)
        found = Candidate(
            meta=metas[pk],
            bm25=bm25,
            cosine=cosine,
            cosine_gap=cosine - best_cosine,
            lexical=bm25 / best_bm25,
            coverage=covered.get(pk, 0.0),
            lexical_first=1 / (1 + lexical_rank[pk]) if pk in lexical_rank else 0.0,
            cosine_z=(cosine - mean) / spread if row is not None else 0.0,
            semantic_first=1 / (1 + semantic_rank[pk]) if pk in semantic_rank else 0.0,
            specific=specific.get(pk, 0.0),
            line_best=line,
            line_gap=line - best_line,
        )
        found.probability = probability(found.features())
        out.append(found)
    return out


def query_vector(text: str) -> np.ndarray:
    return semantic.embed_query(text)


def corpus_ready(stats: CorpusStats, index: "semantic.SemanticIndex") -> bool:
    """Fuse only when vectors exist for the index (else the lexical ranking alone)."""
    return bool(stats.n) and len(index) > 0
