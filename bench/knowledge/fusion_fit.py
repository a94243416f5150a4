"""Fit the fusion weights (knowledge/fusion.py) and the bot's thresholds on a labelled set.

Called by devset.py --fit. Candidates come from the product's own functions (query analysis,
BM25 accumulation, the semantic matrix, fusion.candidates); a logistic regression (IRLS with
a small L2 penalty, numpy only) learns P(candidate is the right article) from their features,
out-of-scope queries' candidates all being negatives. Reported figures are 5-fold
cross-validated with folds grouped by intent (and OOS queries split across the folds), so no
query's intent is seen in training when it is scored.
"""

import random

import numpy as np


def collect(queries, oos):
    from otklik.knowledge import fusion, semantic
    from otklik.knowledge.index import analyzer, current_generation, get_backend
    from otklik.knowledge.search import _accumulate, analyse_query
    from otklik.knowledge.selectors import CLIENT_AUDIENCES

    generation = current_generation()
    store = get_backend(None, generation)
    an = analyzer(generation)
    stats = store.stats()
    index = semantic.get_index(generation)
    out = []
    for text, want in [*queries, *((q, None) for q in oos)]:
        terms, understood = analyse_query(text, an, stats)
        acc, covered = _accumulate(terms, stats, store)
        found = fusion.candidates(
            acc,
            covered,
            store,
            index,
            fusion.query_vector(understood),
            audiences=CLIENT_AUDIENCES,
            role=None,
        )
        x = np.array([c.features() for c in found], dtype=np.float64)
        y = np.array([c.meta.slug == want for c in found], dtype=np.float64)
        lexical_only = np.array([c.bm25 > 0 for c in found])
        out.append((want, [c.meta.slug for c in found], x, y, lexical_only))
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iters: int = 30):
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w[:-1], w[-1]


def predict(w, b, x):
    return 1 / (1 + np.exp(-np.clip(x @ w + b, -50, 50)))


def folds(rows, k=5, seed=11):
    intents = sorted({r[0] for r in rows if r[0] is not None})
    rnd = random.Random(seed)
    rnd.shuffle(intents)
    fold_of = {intent: i % k for i, intent in enumerate(intents)}
    oos_i = 0
    out = []
    for r in rows:
        if r[0] is None:
            out.append(oos_i % k)
            oos_i += 1
        else:
            out.append(fold_of[r[0]])
    return out


def rank_row(w, b, row, min_semantic_only):
    _, slugs, x, _, lexical = row
    if not len(slugs):
        return [], []
    p = predict(w, b, x)
    keep = lexical | (p >= min_semantic_only)
    order = sorted((i for i in range(len(slugs)) if keep[i]), key=lambda i: (-p[i], slugs[i]))
    return [slugs[i] for i in order], [p[i] for i in order]


def fit_and_report(queries, oos, min_semantic_only=0.05):
    rows = collect(queries, oos)
    fold = folds(rows)
    top1 = top3 = rr = 0
    in_top, oos_top, in_right = [], [], []
    for k in range(5):
        train = [r for r, f in zip(rows, fold, strict=True) if f != k]
        w, b = fit(
            np.vstack([r[2] for r in train if len(r[2])]), np.concatenate([r[3] for r in train])
        )
        for r, f in zip(rows, fold, strict=True):
            if f != k:
                continue
            slugs, ps = rank_row(w, b, r, min_semantic_only)
            if r[0] is None:
                oos_top.append(ps[0] if ps else 0.0)
                continue
            in_top.append(ps[0] if ps else 0.0)
            in_right.append(bool(slugs) and slugs[0] == r[0])
            if r[0] in slugs:
                pos = slugs.index(r[0]) + 1
                top1 += pos == 1
                top3 += pos <= 3
                rr += 1 / pos
    n = len(queries)
    print(f"cross-validated fusion: top-1 {top1 / n:.3f}, top-3 {top3 / n:.3f}, MRR {rr / n:.3f}")
    in_top, oos_top, in_right = np.array(in_top), np.array(oos_top), np.array(in_right)
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        answered = in_top >= t
        print(
            f"  answer threshold {t:.2f}: in-scope answered {answered.mean():.1%} "
            f"(right {(answered & in_right).mean():.1%}), OOS answered {(oos_top >= t).mean():.1%}"
        )
    for t in (0.1, 0.15, 0.2, 0.3):
        print(
            f"  choices threshold {t:.2f}: in-scope below {(in_top < t).mean():.1%}, "
            f"OOS below {(oos_top < t).mean():.1%}"
        )
    w, b = fit(np.vstack([r[2] for r in rows if len(r[2])]), np.concatenate([r[3] for r in rows]))
    print(f"weights on all rows: {tuple(round(float(v), 2) for v in w)}, bias {b:.2f}\n")
