"""The fast ranking walk must give exactly what scoring every document in full gives.

`search.rank` skips work (an applicability index, a walk that stops early); `rank_exhaustive`
scores every matching document and sorts. On random small corpora — few words so scores
tie, hidden documents that crowd the top, contexts that boost some documents — both must
return the same documents in the same order with the same scores, and the same `more`.
No database: the embedded backend is built straight from generated index rows.
"""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from otklik.knowledge.index import EmbeddedBackend
from otklik.knowledge.search import (
    APPLICABILITY_BOOST,
    CorpusStats,
    DocMeta,
    QueryTerm,
    SearchContext,
    _applicability,
    _idf,
    _visible,
    rank,
)


def rank_exhaustive(
    terms: list[QueryTerm],
    stats: CorpusStats,
    store,
    *,
    audiences: frozenset[str],
    role: str | None = None,
    context: SearchContext | None = None,
    limit: int = 10,
) -> tuple[list[tuple[float, DocMeta, float, list[str]]], bool]:
    """The reference for `rank`: score every matching document in full, sort, cut.

    Kept simple on purpose (no pruning, no index), so the fast path can be checked
    against it on random corpora.
    """
    acc: dict[int, float] = {}
    postings = store.match(sorted({qt.term for qt in terms}))
    for qt in sorted(terms, key=lambda q: q.term):
        if qt.term not in postings:
            continue
        factor = qt.weight * _idf(stats, qt.term)
        for pk, imp in zip(*postings[qt.term], strict=True):
            acc[pk] = acc.get(pk, 0.0) + factor * imp
    rows = []
    for pk, bm25 in acc.items():
        meta = store.meta(pk)
        if _visible(meta, audiences, role):
            matched = _applicability(meta, context)
            rows.append((bm25 * (1 + APPLICABILITY_BOOST * len(matched)), meta, bm25, matched))
    rows.sort(key=lambda r: (-r[0], r[1].slug))
    return rows[:limit], len(rows) > limit


WORDS = ("карта", "счет", "иис", "пай", "закрытие", "вклад")
PRODUCTS = ("card", "iis", "loan", "fund_units")
RESTRICTIONS = ("sanctions_freeze", "arrest")
CHANNELS = ("phone", "chat", "email")
ROLES = ("operator", "supervisor")
AUDIENCES = ("internal", "client", "both")
TOPICS = (1, 2, 3)


def _pick(rng: random.Random, values: tuple, most: int) -> list:
    return rng.sample(values, rng.randint(0, most))


@st.composite
def corpora(draw) -> list[tuple]:
    """Index rows as EmbeddedBackend reads them, in ascending pk order.

    Hypothesis draws the size and a seed; the rows come from the seed, which keeps
    generation fast (a failure still reports the seed that reproduces it).
    """
    n = draw(st.integers(min_value=1, max_value=40))
    rng = random.Random(draw(st.integers(min_value=0, max_value=2**32)))
    rows = []
    for pk in range(1, n + 1):
        title, steps, body = (" ".join(rng.choices(WORDS, k=rng.randint(0, 6))) for _ in "tsb")
        rows.append(
            (
                pk,
                f"doc-{rng.randrange(10**6):07d}-{pk}",  # slug order differs from pk order
                "procedure",
                rng.choice(AUDIENCES),
                _pick(rng, ROLES, 1),
                _pick(rng, PRODUCTS, 2),
                _pick(rng, RESTRICTIONS, 1),
                _pick(rng, CHANNELS, 2),
                _pick(rng, TOPICS, 2),
                len(title.split()),
                len(steps.split()),
                len(body.split()),
                title,
                steps,
                body,
            )
        )
    return rows


queries = st.lists(
    st.builds(
        QueryTerm,
        term=st.sampled_from((*WORDS, "нет-такого")),
        weight=st.sampled_from((1.0, 0.85, 0.65, 0.6)),
        source=st.just("word"),
        original=st.just(""),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda qt: qt.term,
)

contexts = st.none() | st.builds(
    SearchContext,
    product_kinds=st.frozensets(st.sampled_from(PRODUCTS), max_size=3),
    restriction_kinds=st.frozensets(st.sampled_from(RESTRICTIONS), max_size=2),
    topic_id=st.none() | st.sampled_from(TOPICS),
    channel=st.none() | st.sampled_from(("", *CHANNELS)),
)


class WithoutApplicabilityIndex:
    """A store that only answers match/meta, like the PostgreSQL backend."""

    def __init__(self, inner: EmbeddedBackend) -> None:
        self.match, self.meta = inner.match, inner.meta


def comparable(ranked: tuple[list, bool]) -> tuple[list, bool]:
    top, more = ranked
    return [(score, meta.pk, bm25, matched) for score, meta, bm25, matched in top], more


@settings(max_examples=300, deadline=None)
@given(
    rows=corpora(),
    terms=queries,
    context=contexts,
    audiences=st.frozensets(st.sampled_from(AUDIENCES), min_size=1),
    role=st.none() | st.sampled_from(ROLES),
    limit=st.integers(min_value=1, max_value=12),
)
def test_fast_rank_equals_exhaustive_scoring(rows, terms, context, audiences, role, limit):
    store = EmbeddedBackend(rows)
    stats = store.stats()
    kwargs = {"audiences": audiences, "role": role, "context": context, "limit": limit}
    expected = comparable(rank_exhaustive(terms, stats, store, **kwargs))
    assert comparable(rank(terms, stats, store, **kwargs)) == expected
    plain = WithoutApplicabilityIndex(store)
    assert comparable(rank(terms, stats, plain, **kwargs)) == expected


@settings(max_examples=200, deadline=None)
@given(rows=corpora(), context=contexts.filter(lambda c: c is not None))
def test_applicability_index_agrees_with_the_per_document_rule(rows, context):
    store = EmbeddedBackend(rows)
    expected = {
        pk: len(matched)
        for pk, meta in store.metas.items()
        if (matched := _applicability(meta, context))
    }
    assert store.applicability_counts(context) == expected
