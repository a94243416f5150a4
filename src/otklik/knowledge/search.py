"""One ranking for the knowledge base: BM25 over lemmas with field weights and applicability.

The query is analysed into weighted terms (lemmas, synonym canonicals, layout repairs, typo
corrections, prefix completions while typing); a backend from `index.py` supplies postings
and corpus statistics; this module scores, explains and highlights. Nothing here depends on
which backend answered, which is why SQLite and PostgreSQL rank identically.
"""

import bisect
import heapq
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

import numpy as np
from django.utils.safestring import SafeString
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from otklik.knowledge import fusion, semantic
from otklik.knowledge.index import (
    CorpusStats,
    DocMeta,
    analyzer,
    current_generation,
    get_backend,
    impact,
)
from otklik.knowledge.models import ArticleSearchDoc
from otklik.knowledge.text import (
    Analyzer,
    derived,
    fix_layout,
    is_known_word,
    lemma,
    morph,
    normalize,
    stem,
    tokenize,
)

FIELD_NAMES = ("title", "steps", "body")
APPLICABILITY_BOOST = 0.5  # score multiplier grows by this per matched dimension
TYPO_WEIGHTS = {1: 0.85, 2: 0.65}
PREFIX_WEIGHT = 0.6
MIN_COMMON_DF = 30  # see `search`: max_df_share scales with the knowledge base's size
STEM_WEIGHT = 0.5  # a Snowball stem beside the lemma: same root, maybe another meaning
DERIVED_WEIGHT = 0.5  # the verb's action noun or the noun's verb (text.derived)
SNIPPET_WORDS = 30
_ALPHABET = "абвгдежзийклмнопрстуфхцчшщъыьэюя"


@dataclass(frozen=True)
class SearchContext:
    """What the desk knows about the case: articles that apply to it rank higher."""

    product_kinds: frozenset[str] = frozenset()
    restriction_kinds: frozenset[str] = frozenset()
    topic_id: int | None = None
    channel: str | None = None


@dataclass(frozen=True)
class QueryTerm:
    term: str
    weight: float
    source: str  # word | synonym | layout | typo | prefix
    original: str


@dataclass
class Hit:
    article_id: int
    slug: str
    kind: str
    audience: str
    title: str
    score: float
    title_html: SafeString | str = ""
    snippet_html: SafeString | str = ""
    explain: dict = field(default_factory=dict)


@dataclass
class SearchResult:
    query: str
    understood_as: str  # the query after keyboard-layout repair
    terms: list[QueryTerm]
    hits: list[Hit]
    more: bool  # further visible matches exist beyond `limit`
    backend: str


# --- query analysis -----------------------------------------------------------------------


@lru_cache(maxsize=20_000)
def _dictionary_corrections(word: str) -> tuple[str, ...]:
    """Lemmas of dictionary words one edit away from an unknown word (Norvig-style)."""
    if len(word) < 4 or not word.isalpha():
        return ()
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    edits |= {a + c + b for a, b in splits for c in _ALPHABET}
    known = morph().word_is_known
    return tuple(sorted({lemma(e) for e in edits if e != word and known(e)}))


def _max_distance(term: str) -> int:
    return 0 if len(term) < 4 else 1 if len(term) < 8 else 2


def _typo_terms(word: str, term: str, stats: CorpusStats) -> list[QueryTerm]:
    """Index terms a misspelt query word probably meant, best first (at most three)."""
    found: dict[str, int] = {}
    if not is_known_word(word):
        for candidate in _dictionary_corrections(word):
            if candidate in stats.df:
                found[candidate] = 1
    # A dictionary word is spelt right, it just is not in the index: allow only one edit.
    limit = min(_max_distance(term), 1) if is_known_word(word) else _max_distance(term)
    if limit and stats.vocab:
        for probe in {term, word}:
            for candidate, dist, _ in process.extract(
                probe, stats.vocab, scorer=Levenshtein.distance, score_cutoff=limit, limit=5
            ):
                if dist and found.get(candidate, 9) > dist:
                    found[candidate] = dist
    best = sorted(found.items(), key=lambda kv: (kv[1], -stats.df.get(kv[0], 0), kv[0]))[:3]
    return [QueryTerm(t, TYPO_WEIGHTS[d], "typo", word) for t, d in best]


def analyse_query(
    query: str, an: Analyzer, stats: CorpusStats, *, as_you_type: bool = False
) -> tuple[list[QueryTerm], str]:
    """Weighted index terms for a query, and the query text after layout repair."""

    def is_known(word: str) -> bool:
        return is_known_word(word) or lemma(word) in stats.df

    fixed, layout_fixes = fix_layout(query, is_known)
    repaired = {normalize(new) for _, new in layout_fixes}
    terms: dict[str, QueryTerm] = {}

    def add(qt: QueryTerm) -> None:
        if qt.term not in terms or terms[qt.term].weight < qt.weight:
            terms[qt.term] = qt

    for term, original in an.query_terms(fixed):
        source = "synonym" if " " in original or term != lemma(normalize(original)) else "word"
        if normalize(original) in repaired:
            source = "layout"
        if term in stats.df:
            add(QueryTerm(term, 1.0, source, original))
        elif term.isdigit():
            continue
        else:
            corrections = _typo_terms(normalize(original), term, stats)
            for qt in corrections:
                add(qt)
            if not corrections:
                add(QueryTerm(term, 1.0, source, original))
    for qt in list(terms.values()):
        if qt.source in ("word", "layout", "typo"):
            extra = stem(qt.term)
            if extra != qt.term and extra in stats.df:
                add(QueryTerm(extra, STEM_WEIGHT * qt.weight, "stem", qt.original))
            for other in derived(qt.term):
                if other in stats.df:
                    add(QueryTerm(other, DERIVED_WEIGHT * qt.weight, "derived", qt.original))
    if as_you_type and query and not query[-1].isspace():
        tokens = tokenize(fixed)
        if tokens and len(tokens[-1].norm) >= 3:
            for term in _prefix_terms(tokens[-1].norm, stats):
                add(QueryTerm(term, PREFIX_WEIGHT, "prefix", tokens[-1].text))
    return list(terms.values()), fixed


def _prefix_terms(prefix: str, stats: CorpusStats, limit: int = 5) -> list[str]:
    vocab = stats.vocab
    start = bisect.bisect_left(vocab, prefix)
    found = []
    for term in vocab[start : start + 200]:
        if not term.startswith(prefix):
            break
        found.append(term)
    return sorted(found, key=lambda t: (-stats.df[t], t))[:limit]


# --- ranking ------------------------------------------------------------------------------


def _applicability(meta: DocMeta, context: SearchContext | None) -> list[str]:
    if context is None:
        return []
    matched = []
    if not context.product_kinds.isdisjoint(meta.product_kinds):
        matched.append("product_kinds")
    if not context.restriction_kinds.isdisjoint(meta.restriction_kinds):
        matched.append("restriction_kinds")
    if context.topic_id is not None and context.topic_id in meta.topic_ids:
        matched.append("topic")
    if context.channel and context.channel in meta.channels:
        matched.append("channel")
    return matched


def _visible(meta: DocMeta, audiences: frozenset[str], role: str | None) -> bool:
    return meta.audience in audiences and (not meta.roles or role in meta.roles)


def _idf(stats: CorpusStats, term: str) -> float:
    df = stats.df.get(term, 0)
    return math.log(1 + (stats.n - df + 0.5) / (df + 0.5))


def _multiplier(matched_dimensions: int) -> float:
    return 1 + APPLICABILITY_BOOST * matched_dimensions


def _boosted_scores(
    acc: dict[int, float], store, context: SearchContext | None
) -> dict[int, float]:
    """Final score of every candidate: BM25 times its own applicability multiplier.

    A store with an applicability index (the embedded one) names the documents a context
    boosts, so the rest keep ×1 without being looked at; otherwise (PostgreSQL) each
    candidate's metadata is checked. Either way it is the exact multiplier `_applicability`
    gives, not a bound, so the top can be picked in plain score order.
    """
    if context is None:
        return acc
    counts_for = getattr(store, "applicability_counts", None)
    if counts_for is None:
        counts = {pk: len(_applicability(store.meta(pk), context)) for pk in acc}
    else:
        counts = counts_for(context)
    scores = dict(acc)
    if len(counts) < len(acc):
        for pk, matched in counts.items():
            bm25 = acc.get(pk)
            if bm25 is not None and matched:
                scores[pk] = bm25 * _multiplier(matched)
    else:
        for pk, bm25 in acc.items():
            matched = counts.get(pk)
            if matched:
                scores[pk] = bm25 * _multiplier(matched)
    return scores


def _accumulate(
    terms: list[QueryTerm], stats: CorpusStats, store
) -> tuple[dict[int, float], dict[int, float], dict[int, float]]:
    """BM25 of every document holding a query term; the share of the query's idf mass each
    one covers (0..1): how much of what the client said the article speaks about; and the
    weighted idf of the most specific query term it holds, relative to the query's most
    specific term (0..1): whether it has the word that singles the question out."""
    ordered = sorted(terms, key=lambda q: q.term)
    postings = store.match([qt.term for qt in ordered])
    mass = sum(qt.weight * _idf(stats, qt.term) for qt in ordered) or 1.0
    rarest = max(
        (qt.weight * _idf(stats, qt.term) for qt in ordered if qt.term in postings), default=1.0
    )
    held = [(qt, postings[qt.term]) for qt in ordered if postings.get(qt.term)]
    if not held:
        return {}, {}, {}
    # One pass in numpy over all the terms' postings (at 10 000 articles a common word has
    # thousands): the per-document sums run in the terms' order, as a loop would add them.
    lengths = [len(found[0]) for _, found in held]
    factors = np.array([qt.weight * _idf(stats, qt.term) for qt, _ in held])
    pks, inverse = np.unique(
        np.concatenate([np.asarray(found[0], dtype=np.int64) for _, found in held]),
        return_inverse=True,
    )
    impacts = np.concatenate([np.asarray(found[1], dtype=np.float64) for _, found in held])
    acc = np.bincount(inverse, weights=impacts * np.repeat(factors, lengths), minlength=len(pks))
    covered = np.bincount(inverse, weights=np.repeat(factors / mass, lengths), minlength=len(pks))
    specific = np.zeros(len(pks))
    np.maximum.at(specific, inverse, np.repeat(factors / rarest, lengths))
    keys = pks.tolist()
    return (
        dict(zip(keys, acc.tolist(), strict=True)),
        dict(zip(keys, covered.tolist(), strict=True)),
        dict(zip(keys, specific.tolist(), strict=True)),
    )
    return acc, covered, specific


def rank(
    terms: list[QueryTerm],
    stats: CorpusStats,
    store,
    *,
    audiences: frozenset[str],
    role: str | None = None,
    context: SearchContext | None = None,
    limit: int = 10,
) -> tuple[list[tuple[float, DocMeta, float, list[str]]], bool]:
    """Top `limit` visible documents as (score, meta, bm25, matched applicability), and
    whether more visible documents matched.

    score = Σ_terms weight · idf · impact (see index.impact), times 1 + 0.5 per matched
    applicability dimension; ties go by slug. Every candidate's exact score is known before
    the walk (`_boosted_scores`), so the walk in descending score stops at the first visible
    document below the `limit`-th one instead of bounding what a boost might add.
    tests/knowledge/test_rank_equivalence.py checks it against scoring every document.
    """
    acc, _, _ = _accumulate(terms, stats, store)
    scores = _boosted_scores(acc, store, context)

    # Usually the first few dozen settle the top; look further only if hidden ones crowd it.
    chosen: list[tuple[float, DocMeta]] = []
    more = False
    for size in (limit * 4, limit * 64, len(scores)):
        chosen, more = [], False
        for pk, score in heapq.nlargest(size, scores.items(), key=itemgetter(1)):
            meta = store.meta(pk)
            if not _visible(meta, audiences, role):
                continue
            if len(chosen) >= limit and score < chosen[limit - 1][0]:
                more = True  # a visible one strictly below the cut: nothing later can enter
                break
            chosen.append((score, meta))
        if more or size >= len(scores):
            break
    chosen.sort(key=lambda r: (-r[0], r[1].slug))
    more = more or len(chosen) > limit
    top = []
    for score, meta in chosen[:limit]:
        matched = _applicability(meta, context)
        top.append((score, meta, acc[meta.pk], matched))
    return top, more


def _hybrid_rank(
    terms: list[QueryTerm],
    stats: CorpusStats,
    store,
    index: "semantic.SemanticIndex",
    text: str,
    *,
    audiences: frozenset[str],
    role: str | None,
    context: SearchContext | None,
    limit: int,
) -> tuple[list[tuple[float, DocMeta, float, list[str]]], bool, dict]:
    """Like `rank`, ordered by the fused probability (see fusion.py) times the same
    applicability multiplier; also returns the listed candidates by pk for `explain`."""
    acc, covered, specific = _accumulate(terms, stats, store)
    found = fusion.candidates(
        acc,
        covered,
        specific,
        store,
        index,
        fusion.query_vector(text),
        audiences=audiences,
        role=role,
    )
    scored = []
    for candidate in found:
        if candidate.bm25 <= 0 and candidate.probability < fusion.MIN_SEMANTIC_ONLY:
            continue
        matched = _applicability(candidate.meta, context)
        scored.append((candidate.probability * _multiplier(len(matched)), candidate, matched))
    scored.sort(key=lambda r: (-r[0], r[1].meta.slug))
    top = [(score, c.meta, c.bm25, matched) for score, c, matched in scored[:limit]]
    return top, len(scored) > limit, {c.meta.pk: c for _, c, _ in scored[:limit]}


def explain(
    terms: list[QueryTerm],
    stats: CorpusStats,
    meta: DocMeta,
    lemma_fields: tuple[str, ...],
    bm25: float,
    matched: list[str],
    score: float,
) -> dict:
    """Per-term, per-field contributions of one hit: the same formula as `rank`, itemised."""
    counts = [Counter(text.split()) for text in lemma_fields]
    avg = stats.avg_lens
    parts = []
    for qt in sorted(terms, key=lambda q: q.term):
        tfs = tuple(c[qt.term] for c in counts)
        if not any(tfs):
            continue
        idf = _idf(stats, qt.term)
        fields = {}
        for i, tf in enumerate(tfs):
            if tf:
                one = [0, 0, 0]
                one[i] = tf
                fields[FIELD_NAMES[i]] = round(
                    qt.weight * idf * impact(tuple(one), meta.lens, avg), 4
                )
        parts.append(
            {
                "term": qt.term,
                "original": qt.original,
                "source": qt.source,
                "weight": qt.weight,
                "idf": round(idf, 4),
                "fields": fields,
                "score": round(qt.weight * idf * impact(tfs, meta.lens, avg), 4),
            }
        )
    return {
        "bm25": round(bm25, 4),
        "terms": parts,
        "applicability": {"matched": matched, "multiplier": 1 + APPLICABILITY_BOOST * len(matched)},
        "score": round(score, 4),
    }


def search(
    query: str,
    *,
    audiences: frozenset[str],
    role: str | None = None,
    context: SearchContext | None = None,
    limit: int = 10,
    as_you_type: bool = False,
    highlight: bool = True,
    backend: str | None = None,
    max_df_share: float | None = None,
) -> SearchResult:
    """Ranked published articles for `query` among `audiences` (callers check permissions).

    `max_df_share` drops query terms found in more than that share of all documents: for
    long machine-made queries (a case's text) such words add postings to walk but almost
    nothing to the ranking (their idf is near its floor).
    """
    generation = current_generation()
    store = get_backend(backend, generation)
    an = analyzer(generation)
    stats = store.stats()
    terms, understood = analyse_query(query, an, stats, as_you_type=as_you_type)
    if max_df_share is not None and stats.n:
        # A share alone drops the words that matter in a small base (on 14 articles a tenth
        # is any word in two of them): a word is common only in MIN_COMMON_DF documents too.
        limit_df = max(max_df_share * stats.n, MIN_COMMON_DF)
        common = [qt for qt in terms if stats.df.get(qt.term, 0) > limit_df]
        if len(common) < len(terms):  # keep the query if every word is common
            terms = [qt for qt in terms if qt not in common]
    index = semantic.get_index(generation) if semantic.enabled() else None
    fused: dict[int, fusion.Candidate] = {}
    if index is not None and fusion.corpus_ready(stats, index) and understood.strip():
        top, more, fused = _hybrid_rank(
            terms,
            stats,
            store,
            index,
            understood,
            audiences=audiences,
            role=role,
            context=context,
            limit=limit,
        )
    else:
        top, more = rank(
            terms, stats, store, audiences=audiences, role=role, context=context, limit=limit
        )
    rows = {}
    if top:
        rows = {
            row[0]: row[1:]
            for row in ArticleSearchDoc.objects.filter(
                pk__in=[m.pk for _, m, _, _ in top]
            ).values_list(
                "article_id",
                "title",
                "steps_text",
                "body_text",
                "title_lemmas",
                "steps_lemmas",
                "body_lemmas",
            )
        }
    matched_terms = {qt.term for qt in terms}
    hits = []
    for score, meta, bm25, matched in top:
        title, steps_text, body_text, *lemma_fields = rows.get(meta.pk, ("",) * 6)
        hit = Hit(
            article_id=meta.pk,
            slug=meta.slug,
            kind=meta.kind,
            audience=meta.audience,
            title=title,
            score=score,
            explain=explain(terms, stats, meta, tuple(lemma_fields), bm25, matched, score),
        )
        if meta.pk in fused:
            found = fused[meta.pk]
            hit.explain["semantic"] = {
                name: round(value, 4)
                for name, value in zip(fusion.FEATURES, found.features(), strict=True)
            } | {"probability": round(found.probability, 4)}
        if highlight:
            hit.title_html = an.highlight(title, matched_terms)
            hit.snippet_html = an.highlight(
                f"{steps_text}\n{body_text}".strip(), matched_terms, window=SNIPPET_WORDS
            )
        hits.append(hit)
    return SearchResult(
        query=query,
        understood_as=understood,
        terms=terms,
        hits=hits,
        more=more,
        backend=store.name,
    )
