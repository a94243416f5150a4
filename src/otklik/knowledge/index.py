"""The search index: building documents from published versions, and two storage backends.

Both backends answer the same two questions — corpus statistics and, for a set of query
terms, which documents hold them how often — so the one BM25 in `search.py` gives identical
results on either. The embedded backend keeps compact postings in process memory (rebuilt
when the index generation changes); the PostgreSQL backend asks a GIN index over
to_tsvector('simple', lemmas) for candidates and ts_stat for document frequencies.
"""

import re
import threading
import uuid
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.expressions import RawSQL

from otklik.knowledge.models import Article, ArticleSearchDoc, ArticleVersion, SearchIndexState
from otklik.knowledge.text import Analyzer

FIELDS = ("title", "steps", "body")

_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_MARKUP = re.compile(r"[#*_`>|]+")


def markdown_to_text(markdown: str) -> str:
    """Plain text for indexing and snippets; Markdown punctuation is not content."""
    return _MD_MARKUP.sub(" ", _MD_LINK.sub(r"\1", markdown or "")).strip()


# --- generation and analyser -------------------------------------------------------------


def current_generation() -> str:
    return SearchIndexState.objects.filter(pk=1).values_list("generation", flat=True).first() or ""


def bump_generation() -> None:
    SearchIndexState.objects.update_or_create(pk=1, defaults={"generation": uuid.uuid4().hex})


_lock = threading.Lock()
_analyzers: dict[tuple[str, str], Analyzer] = {}


def analyzer(generation: str | None = None) -> Analyzer:
    """The analyser with the editors' current synonym groups (cached per index generation)."""
    from otklik.knowledge.models import Synonym

    generation = current_generation() if generation is None else generation
    key = (connection.alias + connection.settings_dict["NAME"].__str__(), generation)
    found = _analyzers.get(key)
    if found is None:
        found = Analyzer(Synonym.objects.order_by("id").values_list("terms", flat=True))
        with _lock:
            _analyzers.clear()
            _analyzers[key] = found
    return found


def build_doc(
    article: Article, version: ArticleVersion, an: Analyzer, topic_ids: list[int] | None = None
) -> ArticleSearchDoc:
    """The unsaved index row for `version` of `article`."""
    if topic_ids is None:
        topic_ids = sorted(article.topics.values_list("id", flat=True))
    steps_text = "\n".join(str(s) for s in version.steps or [])
    body_text = markdown_to_text(version.body)
    title_terms = an.index_terms(version.title)
    steps_terms = an.index_terms(steps_text)
    body_terms = an.index_terms(body_text)
    return ArticleSearchDoc(
        article=article,
        slug=article.slug,
        kind=article.kind,
        audience=article.audience,
        title=version.title,
        steps_text=steps_text,
        body_text=body_text,
        title_lemmas=" ".join(title_terms),
        steps_lemmas=" ".join(steps_terms),
        body_lemmas=" ".join(body_terms),
        lemmas=" ".join(title_terms + steps_terms + body_terms),
        title_len=len(title_terms),
        steps_len=len(steps_terms),
        body_len=len(body_terms),
        product_kinds=list(article.product_kinds or []),
        restriction_kinds=list(article.restriction_kinds or []),
        channels=list(article.channels or []),
        roles=list(article.roles or []),
        topic_ids=topic_ids,
    )


# --- what the ranking needs from a backend ------------------------------------------------

K1 = 1.2
B = 0.75
# Equal: with title × 3 one generic title word beat the content (issue 11 failure analysis;
# equal weights measured +2 points top-1 on the dev set, docs/knowledge-benchmarks.md).
FIELD_WEIGHTS = (1.0, 1.0, 1.0)  # title, steps, body


def impact(tfs: tuple[int, int, int], lens: tuple[int, int, int], avg: tuple) -> float:
    """Query-independent BM25 part of one term in one document: saturated tf per field,
    length-normalised, weighted title > steps > body. Score = Σ idf · weight · impact."""
    total = 0.0
    for i in range(3):
        tf = tfs[i]
        if tf:
            norm = K1 * (1 - B + B * lens[i] / avg[i])
            total += FIELD_WEIGHTS[i] * tf * (K1 + 1) / (tf + norm)
    return total


@dataclass(frozen=True)
class DocMeta:
    pk: int
    slug: str
    kind: str
    audience: str
    roles: tuple[str, ...]
    product_kinds: tuple[str, ...]
    restriction_kinds: tuple[str, ...]
    channels: tuple[str, ...]
    topic_ids: tuple[int, ...]
    lens: tuple[int, int, int]


@dataclass
class CorpusStats:
    n: int
    total_lens: tuple[int, int, int]
    df: dict[str, int]
    vocab: list[str] = field(default_factory=list)  # sorted, for typo and prefix lookup

    @property
    def avg_lens(self) -> tuple[float, float, float]:
        n = max(self.n, 1)
        return tuple(max(t / n, 1.0) for t in self.total_lens)  # type: ignore[return-value]


# DocMeta fields that SearchContext matches against (see search._applicability).
APPLICABILITY_DIMENSIONS = ("product_kinds", "restriction_kinds", "topic_ids", "channels")

# term -> (document pks in ascending order, their impacts)
Postings = dict[str, tuple[Sequence[int], Sequence[float]]]

_META_FIELDS = (
    "article_id",
    "slug",
    "kind",
    "audience",
    "roles",
    "product_kinds",
    "restriction_kinds",
    "channels",
    "topic_ids",
    "title_len",
    "steps_len",
    "body_len",
)


def _meta(row: tuple) -> DocMeta:
    return DocMeta(
        pk=row[0],
        slug=row[1],
        kind=row[2],
        audience=row[3],
        roles=tuple(row[4]),
        product_kinds=tuple(row[5]),
        restriction_kinds=tuple(row[6]),
        channels=tuple(row[7]),
        topic_ids=tuple(row[8]),
        lens=(row[9], row[10], row[11]),
    )


def _field_counts(title: str, steps: str, body: str) -> dict[str, tuple[int, int, int]]:
    counts = [Counter(title.split()), Counter(steps.split()), Counter(body.split())]
    terms = set().union(*counts)
    return {t: (counts[0][t], counts[1][t], counts[2][t]) for t in terms}


class EmbeddedBackend:
    """Postings in process memory: per term, arrays of doc pks and precomputed impacts.

    Impacts depend only on the document and corpus averages, so they are computed once per
    index generation; a query then only multiplies by idf and adds.
    """

    name = "embedded"

    def __init__(self, rows: Iterable[tuple] | None = None) -> None:
        """Load every index row; `rows` (in `_META_FIELDS` order plus the three lemma
        fields, ascending pk) stands in for the table in tests that build random corpora."""
        self.metas: dict[int, DocMeta] = {}
        total = [0, 0, 0]
        counts: list[tuple[int, dict[str, tuple[int, int, int]]]] = []
        if rows is None:
            rows = (
                ArticleSearchDoc.objects.order_by("article_id")
                .values_list(*_META_FIELDS, "title_lemmas", "steps_lemmas", "body_lemmas")
                .iterator(chunk_size=500)
            )
        for row in rows:
            meta = _meta(row)
            self.metas[meta.pk] = meta
            for i in range(3):
                total[i] += meta.lens[i]
            counts.append((meta.pk, _field_counts(row[12], row[13], row[14])))
        n = len(self.metas)
        stats = CorpusStats(n=n, total_lens=(total[0], total[1], total[2]), df={})
        avg = stats.avg_lens
        lists: dict[str, tuple[list[int], list[float]]] = {}
        for pk, per_term in counts:
            lens = self.metas[pk].lens
            for term, tfs in per_term.items():
                docs, imps = lists.setdefault(term, ([], []))
                docs.append(pk)
                imps.append(impact(tfs, lens, avg))
        self.postings = {t: (array("q", d), array("d", f)) for t, (d, f) in lists.items()}
        stats.df = {t: len(d) for t, (d, _) in lists.items()}
        stats.vocab = sorted(stats.df)
        self._stats = stats
        # (dimension, value) -> pks of documents carrying it: the applicability index.
        carriers: dict[tuple[str, object], list[int]] = {}
        for meta in self.metas.values():
            for dimension in APPLICABILITY_DIMENSIONS:
                for value in set(getattr(meta, dimension)):
                    carriers.setdefault((dimension, value), []).append(meta.pk)
        self._carriers = {key: array("q", pks) for key, pks in carriers.items()}

    def stats(self) -> CorpusStats:
        return self._stats

    def match(self, terms: list[str]) -> Postings:
        return {t: self.postings[t] for t in terms if t in self.postings}

    def meta(self, pk: int) -> DocMeta:
        return self.metas[pk]

    def applicability_counts(self, context) -> dict[int, int]:
        """pk -> how many applicability dimensions of `context` (a search.SearchContext) the
        document matches, for documents matching at least one; the rest are not listed.

        Same rules as search._applicability, answered from the per-value document lists so
        a query need not inspect every candidate (0.2 ms for a quarter of 10 000 articles,
        cheap enough not to cache).
        """
        wanted = {
            "product_kinds": context.product_kinds,
            "restriction_kinds": context.restriction_kinds,
            "topic_ids": () if context.topic_id is None else (context.topic_id,),
            "channels": (context.channel,) if context.channel else (),
        }
        counts: Counter[int] = Counter()
        for dimension, values in wanted.items():
            docs: set[int] = set()
            for value in values:
                docs.update(self._carriers.get((dimension, value), ()))
            counts.update(docs)  # a document counts once per dimension
        return dict(counts)


class PostgresBackend:
    """Candidates from the GIN index; BM25 statistics from ts_stat over the same tokens."""

    name = "postgres"
    _vector = "to_tsvector('simple', lemmas)"

    def __init__(self) -> None:
        agg = ArticleSearchDoc.objects.aggregate(
            n=Count("pk"), t=Sum("title_len"), s=Sum("steps_len"), b=Sum("body_len")
        )
        table = ArticleSearchDoc._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word, ndoc FROM ts_stat(%s)",
                [f"SELECT {self._vector} FROM {table}"],  # noqa: S608 - constants only
            )
            df = dict(cursor.fetchall())
        self._stats = CorpusStats(
            n=agg["n"],
            total_lens=(agg["t"] or 0, agg["s"] or 0, agg["b"] or 0),
            df=df,
            vocab=sorted(df),
        )
        self._metas: dict[int, DocMeta] = {}  # documents seen in answers, for meta()

    def stats(self) -> CorpusStats:
        return self._stats

    def match(self, terms: list[str]) -> Postings:
        wanted = [t for t in terms if t in self._stats.df]
        if not wanted:
            return {}
        table = ArticleSearchDoc._meta.db_table
        # Terms are runs of letters or digits only (see text.tokenize): safe tsquery operands.
        ids = RawSQL(  # noqa: S611 - constant SQL, the query is a parameter
            f"SELECT article_id FROM {table} WHERE {self._vector} @@ to_tsquery('simple', %s)",  # noqa: S608
            [" | ".join(wanted)],
        )
        rows = (
            ArticleSearchDoc.objects.filter(pk__in=ids)
            .order_by("article_id")
            .values_list(*_META_FIELDS, "title_lemmas", "steps_lemmas", "body_lemmas")
        )
        avg = self._stats.avg_lens
        out: dict[str, tuple[list[int], list[float]]] = {t: ([], []) for t in wanted}
        for row in rows:
            meta = _meta(row)
            counts = _field_counts(row[12], row[13], row[14])
            self._metas[meta.pk] = meta
            for term in wanted:
                if term in counts:
                    out[term][0].append(meta.pk)
                    out[term][1].append(impact(counts[term], meta.lens, avg))
        return {t: v for t, v in out.items() if v[0]}

    def load_metas(self, pks: Iterable[int]) -> None:
        """Metadata of documents found by the semantic channel rather than by `match`."""
        missing = [pk for pk in pks if pk not in self._metas]
        if missing:
            for row in ArticleSearchDoc.objects.filter(pk__in=missing).values_list(*_META_FIELDS):
                self._metas[row[0]] = _meta(row)

    def meta(self, pk: int) -> DocMeta:
        return self._metas[pk]


_backends: dict[tuple, object] = {}


def backend_name() -> str:
    configured = getattr(settings, "KNOWLEDGE_SEARCH_BACKEND", "auto")
    if configured == "auto":
        return "postgres" if connection.vendor == "postgresql" else "embedded"
    return configured


def get_backend(name: str | None = None, generation: str | None = None):
    """The backend for the current index generation, built once and reused."""
    name = name or backend_name()
    generation = current_generation() if generation is None else generation
    key = (name, connection.alias, str(connection.settings_dict["NAME"]), generation)
    found = _backends.get(key)
    if found is None:
        found = EmbeddedBackend() if name == "embedded" else PostgresBackend()
        with _lock:
            for old in [k for k in _backends if k[:3] == key[:3]]:
                del _backends[old]
            _backends[key] = found
    return found
