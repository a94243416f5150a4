"""Articles, versions, publication, synonyms and the seed, as editors and operators meet them."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.http import Http404

from otklik.common.errors import ServiceError
from otklik.knowledge.models import Article, ArticleSearchDoc, ArticleVersion
from otklik.knowledge.search import search
from otklik.knowledge.selectors import (
    STAFF_AUDIENCES,
    article_get_for_user,
    search_articles,
    version_diff,
)
from otklik.knowledge.services import (
    article_archive,
    article_create,
    article_edit,
    article_publish,
    seed_procedures,
    synonym_create,
)


def _draft(cast, **kwargs):
    kwargs.setdefault("title", "Возврат комиссии за пакет услуг")
    return article_create(
        author=cast.sue,
        kind="procedure",
        audience="internal",
        body="Комиссию возвращают по заявлению.",
        steps=["Проверьте критерии"],
        **kwargs,
    )


def test_operators_see_only_published_text(cast):
    article = _draft(cast)
    assert search_articles(user=cast.alice, query="возврат комиссии").hits == []
    with pytest.raises(Http404):
        article_get_for_user(user=cast.alice, slug=article.slug)
    article_publish(article=article, author=cast.sue)
    assert search_articles(user=cast.alice, query="возврат комиссии").hits[0].slug == article.slug

    version = article_edit(article=article, author=cast.sue, title="Возврат платы за кофе")
    assert version.number == 2 and not version.is_published
    assert search_articles(user=cast.alice, query="кофе").hits == []
    assert article_get_for_user(user=cast.alice, slug=article.slug).published_version.number == 1

    article_publish(article=article, author=cast.sue)
    assert search_articles(user=cast.alice, query="кофе").hits[0].slug == article.slug
    assert search_articles(user=cast.alice, query="пакет услуг").hits == []
    assert ArticleVersion.objects.filter(article=article).count() == 2


def test_diff_against_previous_version(cast):
    article = _draft(cast)
    version = article_edit(article=article, author=cast.sue, steps=["Проверьте выписку"])
    diff = version_diff(version=version)
    assert "-- Проверьте критерии" in diff and "+- Проверьте выписку" in diff


def test_archived_article_leaves_search(cast):
    article = _draft(cast)
    article_publish(article=article, author=cast.sue)
    article_archive(article=article, author=cast.sue)
    assert not ArticleSearchDoc.objects.filter(article=article).exists()
    assert search("возврат комиссии", audiences=STAFF_AUDIENCES).hits == []


def test_only_editors_write(cast):
    with pytest.raises(PermissionDenied):
        _draft_by(cast.alice)


def _draft_by(user):
    return article_create(author=user, kind="faq", audience="both", title="Что-то")


def test_validation(cast):
    with pytest.raises(ServiceError) as err:
        _draft(cast, product_kinds=["spaceship"])
    assert "product_kinds" in err.value.message_dict
    _draft(cast, slug="same")
    with pytest.raises(ServiceError):
        _draft(cast, slug="same")


def test_new_synonym_group_takes_effect_at_once(cast):
    article = _draft(cast, title="Выпуск карты для ребёнка")
    article_publish(article=article, author=cast.sue)
    assert search("подростковая", audiences=STAFF_AUDIENCES).hits == []
    synonym_create(author=cast.sue, terms=["ребенок", "подростковый"])
    assert search("подростковая", audiences=STAFF_AUDIENCES).hits[0].slug == article.slug


def test_seed_is_idempotent_and_rebuild_command_reindexes(db):
    added = seed_procedures()
    assert added >= 25
    assert seed_procedures() == 0
    assert Article.objects.count() == added
    ArticleSearchDoc.objects.all().delete()
    call_command("rebuild_search_index", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert ArticleSearchDoc.objects.count() == added
