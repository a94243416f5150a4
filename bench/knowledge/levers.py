"""Experiment only: candidate features that are not in the product, as extra columns for
fusion_fit.py (KB_EXTRA=1 with devset.py --dump). Each was measured with the same CV and
the client set held out; docs/knowledge-benchmarks.md ("Third session") has the figures.

- char n-grams: TF-IDF over character 3-5-grams of words (padded with spaces), cosine of
  the query to the whole article and to its best single line; robust to endings and typos.
- line BM25: each line of an article (title, step, example question) as its own short
  document (BM25 over lemmas and stems, idf over all lines), the best line's score relative
  to the best candidate's.
- navec: idf-weighted mean of Russian word vectors (`navec` news embeddings, shipped in the
  `natasha` wheel; KB_NAVEC=path to the tar), cosine to the article and to its best line.
"""

import math
import os
from collections import Counter

import numpy as np

NAMES = (
    "cg_article",
    "cg_line",
    "cg_line_gap",
    "lexline",
    "lexline_gap",
    "nv_article",
    "nv_line",
    "nv_line_gap",
    "line_first",
)


def _grams(text: str, lo: int = 3, hi: int = 5) -> Counter:
    from otklik.knowledge.text import STOPWORDS, lemma, tokenize

    out: Counter = Counter()
    for token in tokenize(text):
        word = token.norm
        if lemma(word) in STOPWORDS:
            continue
        padded = f" {word} "
        for n in range(lo, hi + 1):
            for i in range(max(len(padded) - n + 1, 1)):
                out[padded[i : i + n]] += 1
    return out


def _tfidf(counts: Counter, idf: dict, default: float) -> dict:
    vec = {g: (1 + math.log(c)) * idf.get(g, default) for g, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {g: v / norm for g, v in vec.items()}


def _dot(a: dict, b: dict) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(g, 0.0) for g, v in a.items())


class _Navec:
    def __init__(self, path: str):
        from navec import Navec  # not a project dependency: PYTHONPATH to an unpacked wheel

        self.model = Navec.load(path)

    def vector(self, text: str, idf: dict, default: float):
        from otklik.knowledge.text import STOPWORDS, lemma, tokenize

        total = np.zeros(300, dtype=np.float32)
        for token in tokenize(text):
            word = token.norm
            if lemma(word) in STOPWORDS or word not in self.model:
                continue
            total += idf.get(word, default) * self.model[word]
        norm = float(np.linalg.norm(total))
        return total / norm if norm else total


def columns(index):
    """(names, fn(text, pks) -> array of len(pks) × len(NAMES)) for the indexed articles."""
    from otklik.knowledge import semantic
    from otklik.knowledge.index import analyzer
    from otklik.knowledge.models import ArticleSearchDoc
    from otklik.knowledge.text import tokenize

    an = analyzer()
    docs = {}
    for pk, title, steps, body in ArticleSearchDoc.objects.values_list(
        "article_id", "title", "steps_text", "body_text"
    ):
        docs[pk] = (semantic._lines(title, steps, body), f"{title}\n{steps}\n{body}")
    n_lines = sum(len(lines) for lines, _ in docs.values()) or 1
    # char n-gram idf over lines
    gram_df: Counter = Counter()
    word_df: Counter = Counter()
    term_df: Counter = Counter()
    line_terms = {}
    for pk, (lines, _) in docs.items():
        line_terms[pk] = []
        for line in lines:
            gram_df.update(set(_grams(line)))
            word_df.update({t.norm for t in tokenize(line)})
            terms = Counter(an.index_terms(line))
            term_df.update(set(terms))
            line_terms[pk].append(terms)
    gram_idf = {g: math.log(n_lines / d) + 1 for g, d in gram_df.items()}
    gdef = math.log(n_lines) + 1
    word_idf = {w: math.log(n_lines / d) + 1 for w, d in word_df.items()}
    term_idf = {t: math.log(1 + (n_lines - d + 0.5) / (d + 0.5)) for t, d in term_df.items()}
    avg_len = sum(sum(c.values()) for ts in line_terms.values() for c in ts) / n_lines
    cg_article = {pk: _tfidf(_grams(whole), gram_idf, gdef) for pk, (_, whole) in docs.items()}
    cg_lines = {
        pk: [_tfidf(_grams(line), gram_idf, gdef) for line in lines]
        for pk, (lines, _) in docs.items()
    }
    navec_path = os.environ.get("KB_NAVEC")
    nv = _Navec(navec_path) if navec_path else None
    if nv:
        nv_article = {pk: nv.vector(whole, word_idf, gdef) for pk, (_, whole) in docs.items()}
        nv_lines = {
            pk: [nv.vector(line, word_idf, gdef) for line in lines]
            for pk, (lines, _) in docs.items()
        }

    def fn(text, pks):
        from otklik.knowledge.search import analyse_query

        q = _tfidf(_grams(text), gram_idf, gdef)
        stats_terms = [qt for qt in analyse_query(text, an, _Stats(term_df))[0]]
        out = np.zeros((len(pks), len(NAMES)))
        qv = nv.vector(text, word_idf, gdef) if nv else None
        for i, pk in enumerate(pks):
            out[i, 0] = _dot(q, cg_article.get(pk, {}))
            out[i, 1] = max((_dot(q, line) for line in cg_lines.get(pk, [])), default=0.0)
            best = 0.0
            for terms in line_terms.get(pk, []):
                length = sum(terms.values())
                score = 0.0
                for qt in stats_terms:
                    tf = terms.get(qt.term, 0)
                    if tf:
                        norm = 1.2 * (1 - 0.75 + 0.75 * length / avg_len)
                        score += qt.weight * term_idf.get(qt.term, 0) * tf * 2.2 / (tf + norm)
                best = max(best, score)
            out[i, 3] = best
            if nv:
                out[i, 5] = float(nv_article[pk] @ qv) if pk in nv_article else 0.0
                out[i, 6] = max((float(v @ qv) for v in nv_lines.get(pk, [])), default=0.0)
        if len(pks):
            out[:, 2] = out[:, 1] - out[:, 1].max()
            top = out[:, 3].max() or 1.0
            out[:, 3] = out[:, 3] / top
            out[:, 4] = out[:, 3] - 1.0
            out[:, 7] = out[:, 6] - out[:, 6].max()
        return out

    return NAMES, fn


class _Stats:
    """Just enough of CorpusStats for analyse_query over the line vocabulary."""

    def __init__(self, df):
        self.df = dict(df)
        self.vocab = sorted(self.df)
        self.n = len(self.df)
