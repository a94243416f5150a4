"""Writes to the knowledge base: articles, versions, publication, synonyms and the index."""

from collections.abc import Iterable, Sequence
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from otklik.accounts.models import Role
from otklik.cases.models import Topic
from otklik.clients.models import ChannelKind, ProductKind, RestrictionKind
from otklik.common.errors import ServiceError
from otklik.knowledge.index import build_doc, bump_generation
from otklik.knowledge.models import (
    Article,
    ArticleKind,
    ArticleSearchDoc,
    ArticleStatus,
    ArticleVersion,
    Audience,
    Synonym,
)
from otklik.knowledge.text import Analyzer

EDITOR_ROLES = frozenset({Role.SENIOR_OPERATOR, Role.SUPERVISOR, Role.ADMIN})


def can_edit_knowledge(user) -> bool:
    """Senior operators, supervisors and admins keep the procedures current."""
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or user.role in EDITOR_ROLES)
    )


def _require_editor(user) -> None:
    if not can_edit_knowledge(user):
        raise PermissionDenied(_("Only editors may change the knowledge base."))


def _choice_list(values: Iterable[str], allowed, field: str) -> list[str]:
    values = sorted(set(values or ()))
    bad = [v for v in values if v not in allowed.values]
    if bad:
        raise ServiceError({field: _("Unknown values: %(values)s") % {"values": ", ".join(bad)}})
    return values


def _text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ServiceError({field: _("This field is required.")})
    return value


def _steps(steps: Sequence[str]) -> list[str]:
    return [s.strip() for s in steps or () if s and s.strip()]


def _current_analyzer() -> Analyzer:
    return Analyzer(Synonym.objects.order_by("id").values_list("terms", flat=True))


@transaction.atomic
def article_create(
    *,
    author,
    kind: str,
    audience: str,
    title: str,
    body: str = "",
    steps: Sequence[str] = (),
    slug: str = "",
    owner=None,
    review_by: date | None = None,
    product_kinds: Iterable[str] = (),
    restriction_kinds: Iterable[str] = (),
    channels: Iterable[str] = (),
    roles: Iterable[str] = (),
    topics: Iterable[Topic] = (),
) -> Article:
    """A draft article with its first version; nobody but editors sees it until published."""
    _require_editor(author)
    if kind not in ArticleKind.values:
        raise ServiceError({"kind": _("Unknown article kind.")})
    if audience not in Audience.values:
        raise ServiceError({"audience": _("Unknown audience.")})
    title = _text(title, "title")
    slug = slugify(slug or "", allow_unicode=False) or slugify(title, allow_unicode=True)[:100]
    if Article.objects.filter(slug=slug).exists():
        raise ServiceError({"slug": _("An article with this slug already exists.")})
    article = Article.objects.create(
        kind=kind,
        audience=audience,
        title=title,
        slug=slug,
        owner=owner or author,
        review_by=review_by,
        product_kinds=_choice_list(product_kinds, ProductKind, "product_kinds"),
        restriction_kinds=_choice_list(restriction_kinds, RestrictionKind, "restriction_kinds"),
        channels=_choice_list(channels, ChannelKind, "channels"),
        roles=_choice_list(roles, Role, "roles"),
    )
    article.topics.set(list(topics))
    ArticleVersion.objects.create(
        article=article,
        number=1,
        title=title,
        body=body or "",
        steps=_steps(steps),
        author=author,
    )
    return article


@transaction.atomic
def article_edit(
    *,
    article: Article,
    author,
    title: str | None = None,
    body: str | None = None,
    steps: Sequence[str] | None = None,
) -> ArticleVersion:
    """A new draft version; the published one stays what operators see until republished."""
    _require_editor(author)
    article = Article.objects.select_for_update().get(pk=article.pk)
    latest = article.versions.order_by("-number").first()
    return ArticleVersion.objects.create(
        article=article,
        number=(latest.number if latest else 0) + 1,
        title=_text(title if title is not None else latest.title, "title"),
        body=body if body is not None else latest.body,
        steps=_steps(steps) if steps is not None else list(latest.steps),
        author=author,
    )


@transaction.atomic
def article_set_applicability(
    *,
    article: Article,
    author,
    product_kinds: Iterable[str] | None = None,
    restriction_kinds: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
    topics: Iterable[Topic] | None = None,
    audience: str | None = None,
) -> Article:
    """Where an article applies and who sees it; takes effect in search at once."""
    _require_editor(author)
    fields = []
    for name, value, allowed in (
        ("product_kinds", product_kinds, ProductKind),
        ("restriction_kinds", restriction_kinds, RestrictionKind),
        ("channels", channels, ChannelKind),
        ("roles", roles, Role),
    ):
        if value is not None:
            setattr(article, name, _choice_list(value, allowed, name))
            fields.append(name)
    if audience is not None:
        if audience not in Audience.values:
            raise ServiceError({"audience": _("Unknown audience.")})
        article.audience = audience
        fields.append("audience")
    article.save(update_fields=[*fields, "updated_at"])
    if topics is not None:
        article.topics.set(list(topics))
    if article.status == ArticleStatus.PUBLISHED and article.published_version_id:
        _index_article(article, article.published_version, _current_analyzer())
        bump_generation()
    return article


def _index_article(article: Article, version: ArticleVersion, an: Analyzer) -> None:
    doc = build_doc(article, version, an)
    ArticleSearchDoc.objects.filter(article=article).delete()
    doc.save()


@transaction.atomic
def article_publish(
    *, article: Article, author, version: ArticleVersion | None = None
) -> ArticleVersion:
    """Make a version (default: the latest) the one operators and clients see, and index it."""
    _require_editor(author)
    article = Article.objects.select_for_update().get(pk=article.pk)
    version = version or article.versions.order_by("-number").first()
    if version is None or version.article_id != article.pk:
        raise ServiceError({"version": _("This version does not belong to the article.")})
    if not version.is_published:
        version.is_published = True
        version.save(update_fields=["is_published"])
    article.published_version = version
    article.title = version.title
    article.status = ArticleStatus.PUBLISHED
    article.save(update_fields=["published_version", "title", "status", "updated_at"])
    _index_article(article, version, _current_analyzer())
    bump_generation()
    return version


@transaction.atomic
def article_archive(*, article: Article, author) -> Article:
    """Withdraw an article from search; its versions stay for the record."""
    _require_editor(author)
    article.status = ArticleStatus.ARCHIVED
    article.save(update_fields=["status", "updated_at"])
    ArticleSearchDoc.objects.filter(article=article).delete()
    bump_generation()
    return article


def _clean_terms(terms: Iterable[str]) -> list[str]:
    cleaned, seen = [], set()
    for term in terms or ():
        term = " ".join((term or "").split())
        key = term.lower().replace("ё", "е")
        if term and key not in seen:
            seen.add(key)
            cleaned.append(term)
    if len(cleaned) < 2:
        raise ServiceError({"terms": _("A synonym group needs at least two different terms.")})
    if not all(Analyzer.lemmas(t) for t in cleaned):
        raise ServiceError({"terms": _("Each term needs at least one meaningful word.")})
    return cleaned


@transaction.atomic
def synonym_create(*, author, terms: Sequence[str], note: str = "") -> Synonym:
    """A new synonym group; the first one-word term becomes the canonical token."""
    _require_editor(author)
    synonym = Synonym.objects.create(terms=_clean_terms(terms), note=note.strip())
    search_index_rebuild()
    return synonym


@transaction.atomic
def synonym_update(*, author, synonym: Synonym, terms: Sequence[str], note: str | None = None):
    _require_editor(author)
    synonym.terms = _clean_terms(terms)
    if note is not None:
        synonym.note = note.strip()
    synonym.save(update_fields=["terms", "note", "updated_at"])
    search_index_rebuild()
    return synonym


@transaction.atomic
def synonym_delete(*, author, synonym: Synonym) -> None:
    _require_editor(author)
    synonym.delete()
    search_index_rebuild()


@transaction.atomic
def search_index_rebuild() -> int:
    """Re-index every published article (after synonym changes or an analyser upgrade)."""
    an = _current_analyzer()
    ArticleSearchDoc.objects.all().delete()
    articles = (
        Article.objects.filter(status=ArticleStatus.PUBLISHED, published_version__isnull=False)
        .select_related("published_version")
        .prefetch_related("topics")
    )
    docs = []
    for article in articles.iterator(chunk_size=500):
        topic_ids = sorted(t.pk for t in article.topics.all())
        doc = build_doc(article, article.published_version, an, topic_ids)
        docs.append(doc)
        if len(docs) >= 500:
            ArticleSearchDoc.objects.bulk_create(docs)
            docs = []
    ArticleSearchDoc.objects.bulk_create(docs)
    bump_generation()
    return ArticleSearchDoc.objects.count()


@transaction.atomic
def seed_procedures(*, author=None) -> int:
    """Load the bundled procedures and synonym groups; idempotent (known slugs are skipped).

    Returns how many articles were added. Runs as the system, so no editor is required.
    """
    from otklik.knowledge.seed import load_data

    data = load_data()
    known_groups = {tuple(g) for g in Synonym.objects.values_list("terms", flat=True)}
    for group in data["synonyms"]:
        terms = _clean_terms(group)
        if tuple(terms) not in known_groups:
            Synonym.objects.create(terms=terms, note="seed")
    existing = set(Article.objects.values_list("slug", flat=True))
    added = 0
    for item in data["articles"]:
        if item["slug"] in existing:
            continue
        article = Article.objects.create(
            kind=item["kind"],
            audience=item["audience"],
            title=item["title"],
            slug=item["slug"],
            owner=author,
            product_kinds=_choice_list(item.get("product_kinds", ()), ProductKind, "product_kinds"),
            restriction_kinds=_choice_list(
                item.get("restriction_kinds", ()), RestrictionKind, "restriction_kinds"
            ),
            channels=_choice_list(item.get("channels", ()), ChannelKind, "channels"),
            roles=_choice_list(item.get("roles", ()), Role, "roles"),
            status=ArticleStatus.PUBLISHED,
        )
        article.topics.set(
            [Topic.objects.get_or_create(name=name)[0] for name in item.get("topics", ())]
        )
        version = ArticleVersion.objects.create(
            article=article,
            number=1,
            title=item["title"],
            body=item.get("body", ""),
            steps=_steps(item.get("steps", ())),
            author=author,
            is_published=True,
        )
        article.published_version = version
        article.save(update_fields=["published_version"])
        added += 1
    search_index_rebuild()
    return added
