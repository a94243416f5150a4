"""Top-1 / top-3 / MRR per search path on a labelled intent set, and the bot's confident-answer
rate on out-of-scope questions, through the product's own functions on a fresh database.

    .venv/bin/python bench/knowledge/devset.py [--set clinc|client] [--lexical] [--fit]

--set clinc (default): /work/shared/devsets/ru_clinc150.json (or KB_DEVSET), the issue-11
  protocol: each intent is one published FAQ whose title is its first utterance and whose
  body lists its first two utterances as example questions; the other three are queries; the
  out-of-scope record's utterances are the OOS queries.
--set seed: the seed knowledge base with bench/knowledge/eval_queries.csv (written by the
  articles' authors; no OOS).
--set client: the seed knowledge base with bench/knowledge/client_queries.csv (queries written
  the way clients write, sharing few words with the articles) and its OOS rows.
--lexical: OTKLIK_KNOWLEDGE_SEMANTIC=0 (today's lexical ranking alone).
--dump FILE: write the candidates' features for `fusion_fit.py FILE…` (fit on several sets).
--fit: also fit the fusion weights (logistic regression on the candidates' features) with
  5-fold cross-validation grouped by intent, and report the cross-validated numbers.

Articles are created and published with the knowledge services and indexed by the re-index
job (tasks run immediately here), then searched as: the operator's search screen, the public
FAQ, the REST API, the chat bot and case suggestions (each through its own entry point).
"""

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_sqlite

HERE = Path(__file__).resolve().parent
DEVSET = Path(os.environ.get("KB_DEVSET", "/work/shared/devsets/ru_clinc150.json"))


def load_clinc():
    data = json.loads(DEVSET.read_text(encoding="utf-8"))
    articles, queries, oos = [], [], []
    for record in data:
        utterances = record["sample_utterances"]
        if record["intent_id"] < 0:
            oos = list(utterances)
            continue
        slug = f"intent-{record['intent_id']}"
        body = "Примеры вопросов:\n\n" + "\n".join(f"- {u}" for u in utterances[:2])
        articles.append((slug, utterances[0], body))
        queries += [(u, slug) for u in utterances[2:]]
    return articles, queries, oos


def load_seed():
    from evaluate import load_queries

    return None, load_queries(), []


def load_client():
    with (HERE / "client_queries.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    queries = [(r["query"], r["expected"]) for r in rows if r["expected"] != "-"]
    oos = [r["query"] for r in rows if r["expected"] == "-"]
    return None, queries, oos


def setup(articles):
    """Publish the articles through the services; the re-index job runs inline."""
    from otklik.accounts.models import Role, User
    from otklik.knowledge import services
    from otklik.knowledge.models import ArticleKind, Audience

    editor = User.objects.create(username="kb-editor", role=Role.SUPERVISOR)
    operator = User.objects.create(username="kb-operator", role=Role.OPERATOR)
    if articles is None:
        services.seed_procedures()
        return editor, operator
    started = time.perf_counter()
    for slug, title, body in articles:
        article = services.article_create(
            author=editor,
            kind=ArticleKind.FAQ,
            audience=Audience.BOTH,
            title=title,
            body=body,
            slug=slug,
        )
        services.article_publish(article=article, author=editor)
    print(
        f"published and indexed {len(articles)} articles in {time.perf_counter() - started:.1f} s"
    )
    return editor, operator


def paths(operator):
    """name -> function(query) -> ranked slugs, each through the product's entry point."""
    from django.test import Client, RequestFactory

    from otklik.chat import bot
    from otklik.chat.services import conversation_start
    from otklik.knowledge import public_views, selectors, views

    factory = RequestFactory()
    api = Client()
    conversation, _ = conversation_start()

    def operator_search(q):
        request = factory.get("/knowledge/search", {"q": q})
        request.user = operator
        return [h.slug for h in views._search(request, q).hits]

    def public_faq(q):
        return [h.slug for h in public_views._search(q).hits]

    def rest_api(q):
        response = api.get("/api/knowledge/search", {"q": q[:200]})
        return [h["slug"] for h in response.json()["hits"]]

    def chat_bot(q):
        decision = bot.decide(conversation, q)
        return [c["slug"] for c in decision.candidates], decision.kind

    def case_suggestions(q):
        # suggest_for_case's own query arguments; the case is the query, with no context.
        return [
            h.slug
            for h in selectors.search_articles(
                user=operator, query=q, limit=5, max_df_share=selectors.SUGGESTION_MAX_DF_SHARE
            ).hits
        ]

    return {
        "operator search": operator_search,
        "public FAQ": public_faq,
        "REST API": rest_api,
        "chat bot": chat_bot,
        "case suggestions": case_suggestions,
    }


def metrics(ranked, expected):
    top1 = top3 = rr = 0.0
    for slugs, want in zip(ranked, expected, strict=True):
        if want in slugs:
            pos = slugs.index(want) + 1
            rr += 1 / pos
            top1 += pos == 1
            top3 += pos <= 3
    n = max(len(expected), 1)
    return top1 / n, top3 / n, rr / n


def run_paths(queries, oos, operator):
    expected = [e for _, e in queries]
    print("| path | top-1 | top-3 | MRR | p50 ms | p95 ms |\n|---|---|---|---|---|---|")
    bot_rows = None
    for name, fn in paths(operator).items():
        ranked, kinds, times = [], [], []
        for q, _ in queries:
            started = time.perf_counter()
            out = fn(q)
            times.append((time.perf_counter() - started) * 1000)
            if name == "chat bot":
                out, kind = out
                kinds.append(kind)
            ranked.append(out)
        t1, t3, mrr = metrics(ranked, expected)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(
            f"| {name} | {t1:.3f} | {t3:.3f} | {mrr:.3f} | {statistics.median(times):.1f} "
            f"| {p95:.1f} |"
        )
        if name == "chat bot":
            bot_rows = (ranked, kinds, fn)
    ranked, kinds, fn = bot_rows
    answered = [k == "answer" for k in kinds]
    right = [a and r[:1] == [e] for a, r, e in zip(answered, ranked, expected, strict=True)]
    offered = [
        k == "alternatives" and e in r[:3] for k, r, e in zip(kinds, ranked, expected, strict=True)
    ]
    oos_kinds = [fn(q)[1] for q in oos]
    n = len(queries)
    print(
        f"\nbot, in scope ({n}): answered {sum(answered) / n:.1%}, answered right "
        f"{sum(right) / n:.1%} (precision {sum(right) / max(sum(answered), 1):.1%}), "
        f"choices holding the answer {sum(offered) / n:.1%}, handed off "
        f"{sum(k.startswith('handoff') for k in kinds) / n:.1%}"
    )
    if oos:
        print(
            f"bot, out of scope ({len(oos)}): confident answers "
            f"{sum(k == 'answer' for k in oos_kinds) / len(oos):.1%}, choices "
            f"{sum(k == 'alternatives' for k in oos_kinds) / len(oos):.1%}, handed off "
            f"{sum(k.startswith('handoff') for k in oos_kinds) / len(oos):.1%}"
        )


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", choices=("clinc", "client", "seed"), default="clinc")
    parser.add_argument("--dump", help="write the candidates' features here (for fusion_fit.py)")
    parser.add_argument("--dump-only", action="store_true", help="with --dump: skip the paths")
    parser.add_argument("--lexical", action="store_true")
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    os.environ["OTKLIK_TASKS_BACKEND"] = "immediate"
    if args.lexical:
        os.environ["OTKLIK_KNOWLEDGE_SEMANTIC"] = "0"
    django_on_fresh_sqlite(f"otklik_kb_devset_{args.set}")
    loader = {"clinc": load_clinc, "client": load_client, "seed": load_seed}[args.set]
    articles, queries, oos = loader()
    _, operator = setup(articles)
    print(f"{len(queries)} queries, {len(oos)} out-of-scope\n")
    if args.fit or args.dump:
        import pickle

        from fusion_fit import collect, fit_and_report

        rows, names = collect(queries, oos)
        if args.dump:
            Path(args.dump).write_bytes(pickle.dumps((args.set, rows, names)))
            if args.dump_only:
                return
        if args.fit:
            fit_and_report({args.set: rows})
    run_paths(queries, oos, operator)


if __name__ == "__main__":
    main()
