"""Hybrid ranking (BM25 fused with sentence embeddings); CI runs it on SQLite and PostgreSQL.

The fixture is a small FAQ in the shape of the issue-11 dev set (a title and example
questions); the queries say the same things in other words, the way clients do.
"""

import numpy as np
import pytest

from otklik.accounts.models import Role
from otklik.knowledge import semantic
from otklik.knowledge.index import current_generation
from otklik.knowledge.models import ArticleVersion, Audience
from otklik.knowledge.selectors import search_articles
from otklik.knowledge.services import (
    article_create,
    article_edit,
    article_publish,
    embeddings_rebuild,
)
from tests.factories import UserFactory

FAQ = {
    "card-lost": ("Я потерял банковскую карту", ["карта пропала, не могу найти"]),
    "pin-change": ("Как поменять ПИН-код", ["хочу установить новый пин"]),
    "balance": ("Сколько денег на моём счёте", ["покажите остаток на счёте"]),
    "transfer": (
        "Перевести деньги между счетами",
        ["переведите средства с одного счёта на другой"],
    ),
    "exchange-rate": ("Какой курс доллара", ["сколько стоит евро в рублях"]),
    "credit-limit": (
        "Какой лимит по кредитке",
        ["до какой суммы можно тратить по кредитной карте"],
    ),
    "bill-due": ("Когда платить по счетам", ["срок оплаты коммунальных счетов"]),
    "interest-rate": ("Какая ставка по вкладу", ["под какой процент депозит"]),
}


def _publish(editor, slug, title, examples):
    body = "Примеры вопросов:\n\n" + "\n".join(f"- {e}" for e in [title, *examples])
    article = article_create(
        author=editor, kind="faq", audience=Audience.BOTH, title=title, body=body, slug=slug
    )
    article_publish(article=article, author=editor)
    return article


@pytest.fixture
def faq(db):
    editor = UserFactory(role=Role.SUPERVISOR)
    return {slug: _publish(editor, slug, t, ex) for slug, (t, ex) in FAQ.items()}, editor


def top(query: str) -> str | None:
    hits = search_articles(user=None, query=query, limit=5).hits
    return hits[0].slug if hits else None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("куда-то делась моя карточка", "card-lost"),
        ("мою карточку украли", "card-lost"),
        ("хочу закинуть бабки себе на другой счет", "transfer"),
        ("проценты по депозиту какие", "interest-rate"),
    ],
)
def test_client_wording_finds_the_article(faq, query, expected):
    assert top(query) == expected


def test_vector_is_stored_with_the_published_version(faq):
    articles, _ = faq
    version = articles["card-lost"].versions.get()
    assert version.embedding_model == semantic.MODEL_NAME
    stored = semantic.from_bytes(version.embedding)
    # the article's vector, then one per line: the title and the example question
    # (the «Примеры вопросов:» heading and the title repeated in the body get none)
    assert stored.shape == (3, semantic.DIMS)
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=0.01)
    title = semantic.embed_query("Я потерял банковскую карту")
    assert float(stored[1] @ title) > 0.99


def test_best_line_is_the_nearest_example_question(faq):
    articles, _ = faq
    index = semantic.get_index(current_generation())
    query = semantic.embed_query("хочу установить новый пин")
    rows = [index.row_of[articles[slug].pk] for slug in ("pin-change", "card-lost")]
    best = index.best_lines(rows, query)
    assert best[0] > 0.99  # the example question itself
    assert best[0] > float(index.matrix[rows[0]] @ query)  # sharper than the article's
    assert best[1] < 0.9


def test_new_version_replaces_the_vector_in_the_matrix(faq):
    articles, editor = faq
    pk = articles["bill-due"].pk
    before = semantic.get_index(current_generation())
    old_row = before.matrix[before.row_of[pk]].copy()
    article_edit(
        article=articles["bill-due"],
        author=editor,
        title="Как получить справку о доходах",
        body="Примеры вопросов:\n\n- нужна справка 2-НДФЛ",
        steps=[],
    )
    article_publish(article=articles["bill-due"], author=editor)
    after = semantic.get_index(current_generation())
    assert after is not before  # a new generation, a reloaded matrix
    assert float(after.matrix[after.row_of[pk]] @ old_row) < 0.95
    assert top("нужна бумага о зарплате для визы") == "bill-due"


def test_rebuild_fills_missing_vectors(faq):
    ArticleVersion.objects.update(embedding=None, embedding_model="")
    assert len(semantic.get_index(current_generation())) == 0
    done = []
    assert embeddings_rebuild(progress=lambda d, t: done.append((d, t))) == len(FAQ)
    assert done[-1] == (len(FAQ), len(FAQ))
    assert len(semantic.get_index(current_generation())) == len(FAQ)


def test_hits_explain_the_fused_probability(faq):
    hit = search_articles(user=None, query="мою карточку украли", limit=1).hits[0]
    assert 0 < hit.explain["semantic"]["probability"] <= 1
    assert hit.score == pytest.approx(hit.explain["semantic"]["probability"], abs=1e-4)


def test_nonsense_lists_no_semantic_neighbours(faq):
    assert search_articles(user=None, query="рецепт борща со сметаной", limit=5).hits == []


def test_semantic_neighbours_respect_audience(faq):
    _, editor = faq
    internal = article_create(
        author=editor,
        kind="procedure",
        audience=Audience.INTERNAL,
        title="Карта утеряна клиентом: блокировка оператором",
        slug="internal-lost",
    )
    article_publish(article=internal, author=editor)
    slugs = [h.slug for h in search_articles(user=None, query="карточка пропала", limit=10).hits]
    assert "internal-lost" not in slugs and slugs[0] == "card-lost"


def test_rebuild_command_recomputes_vectors_with_progress(faq):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("rebuild_search_index", "--embeddings", stdout=out)
    assert f"vectors: {len(FAQ)}/{len(FAQ)}" in out.getvalue()
    assert f"computed {len(FAQ)} vector(s)" in out.getvalue()
