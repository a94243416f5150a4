"""Writes to the knowledge base: articles, versions, publication, synonyms and the index."""

import logging
from collections.abc import Iterable, Sequence
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils.text import slugify
from django.utils.translation import gettext as _

from otklik.accounts.models import Role
from otklik.cases.models import Topic
from otklik.clients.models import ChannelKind, ProductKind, RestrictionKind
from otklik.common.errors import ServiceError
from otklik.knowledge.engagement import (
    acknowledgement_confirm as acknowledgement_confirm,
)
from otklik.knowledge.engagement import (
    article_mark_used as article_mark_used,
)
from otklik.knowledge.engagement import (
    case_pin as case_pin,
)
from otklik.knowledge.engagement import (
    case_unpin as case_unpin,
)
from otklik.knowledge.engagement import (
    rarely_used_procedures as rarely_used_procedures,
)
from otklik.knowledge.engagement import (
    refresher_mark_read as refresher_mark_read,
)
from otklik.knowledge.engagement import (
    refresher_period as refresher_period,
)
from otklik.knowledge.engagement import (
    refresher_scan as refresher_scan,
)
from otklik.knowledge.index import build_doc, bump_generation
from otklik.knowledge.models import (
    Acknowledgement,
    Article,
    ArticleKind,
    ArticleSearchDoc,
    ArticleStatus,
    ArticleVersion,
    Audience,
    Synonym,
)
from otklik.knowledge.text import Analyzer

logger = logging.getLogger(__name__)

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
    note: str = "",
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
        note=(note or "").strip()[:300],
        author=author,
    )


_UNSET = object()


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
    owner=_UNSET,
    review_by=_UNSET,
) -> Article:
    """Where an article applies, who sees and owns it; search follows after the commit."""
    _require_editor(author)
    fields = []
    if owner is not _UNSET:
        if owner is not None and not can_edit_knowledge(owner):
            raise ServiceError({"owner": _("The owner must be a knowledge editor.")})
        article.owner = owner
        fields.append("owner")
    if review_by is not _UNSET:
        article.review_by = review_by
        fields.append("review_by")
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
        search_index_update_later(article_id=article.pk)
    return article


@transaction.atomic
def article_publish(
    *,
    article: Article,
    author,
    version: ArticleVersion | None = None,
    material: bool = False,
) -> ArticleVersion:
    """Make a version (default: the latest) the one operators and clients see.

    The index is updated by a job after the commit. The first publication of a procedure,
    or one flagged `material`, asks the affected roles to acknowledge it; a minor change
    only moves pending requests on to the new text.
    """
    _require_editor(author)
    article = Article.objects.select_for_update().get(pk=article.pk)
    version = version or article.versions.order_by("-number").first()
    if version is None or version.article_id != article.pk:
        raise ServiceError({"version": _("This version does not belong to the article.")})
    first = not article.versions.filter(is_published=True).exists()
    material = bool(material or first)
    if not version.is_published:
        version.is_published = True
        version.material = material
        version.save(update_fields=["is_published", "material"])
    article.published_version = version
    article.title = version.title
    article.status = ArticleStatus.PUBLISHED
    article.save(update_fields=["published_version", "title", "status", "updated_at"])
    if article.kind == ArticleKind.PROCEDURE:
        _request_acknowledgements(article=article, version=version, material=material, by=author)
    search_index_update_later(article_id=article.pk)
    return version


FRONT_LINE_ROLES = (Role.OPERATOR, Role.SENIOR_OPERATOR, Role.PERSONAL_MANAGER)


def ack_required_users(article: Article):
    """Active staff who must acknowledge the procedure: its roles, or the whole front line."""
    from otklik.accounts.models import User

    roles = list(article.roles or ()) or list(FRONT_LINE_ROLES)
    return User.objects.filter(is_active=True, role__in=roles)


def _request_acknowledgements(*, article: Article, version: ArticleVersion, material: bool, by):
    pending = Acknowledgement.objects.filter(article=article, acknowledged_at__isnull=True)
    if material:
        pending.exclude(version=version).delete()
        users = ack_required_users(article).exclude(pk=getattr(by, "pk", None))
        Acknowledgement.objects.bulk_create(
            [Acknowledgement(article=article, version=version, user=u) for u in users],
            ignore_conflicts=True,
        )
        return
    # Minor change: whoever still has to read the procedure reads the current text.
    has_current = Acknowledgement.objects.filter(version=version).values("user_id")
    pending.exclude(version=version).filter(user_id__in=has_current).delete()
    pending.exclude(version=version).update(version=version)


@transaction.atomic
def article_archive(*, article: Article, author) -> Article:
    """Withdraw an article from search; its versions stay for the record."""
    _require_editor(author)
    article.status = ArticleStatus.ARCHIVED
    article.save(update_fields=["status", "updated_at"])
    Acknowledgement.objects.filter(article=article, acknowledged_at__isnull=True).delete()
    search_index_update_later(article_id=article.pk)
    return article


@transaction.atomic
def article_set_related(*, article: Article, author, slugs: Iterable[str]) -> Article:
    """Link articles to each other (both ways); unknown slugs are an error."""
    _require_editor(author)
    slugs = sorted({s.strip() for s in slugs or () if s and s.strip()} - {article.slug})
    found = list(Article.objects.filter(slug__in=slugs))
    missing = sorted(set(slugs) - {a.slug for a in found})
    if missing:
        raise ServiceError(
            {"related": _("Unknown articles: %(slugs)s") % {"slugs": ", ".join(missing)}}
        )
    article.related.set(found)
    return article


# --- the index, through the job system ----------------------------------------------------


def embeddings_compute(versions: Sequence[ArticleVersion], *, force: bool = False) -> int:
    """Store the semantic vector of each version that lacks one from the current model.

    Runs outside the index transaction: the model takes tens of milliseconds per article,
    and a version's text never changes, so a vector once stored stays right.
    """
    from otklik.knowledge import semantic
    from otklik.knowledge.index import markdown_to_text

    todo = [
        v for v in versions if force or v.embedding_model != semantic.MODEL_NAME or not v.embedding
    ]
    if not todo or not semantic.enabled():
        return 0
    vectors = semantic.article_vectors(
        [
            (v.title, "\n".join(str(s) for s in v.steps or []), markdown_to_text(v.body))
            for v in todo
        ]
    )
    for version, vector in zip(todo, vectors, strict=True):
        version.embedding = semantic.to_bytes(vector)
        version.embedding_model = semantic.MODEL_NAME
    ArticleVersion.objects.bulk_update(todo, ["embedding", "embedding_model"], batch_size=200)
    return len(todo)


def embeddings_rebuild(*, force: bool = False, batch: int = 64, progress=None) -> int:
    """Vectors for every published version lacking one (all with `force`), then a new index
    generation so every process reloads its matrix. `progress(done, total)` after each batch."""
    ids = list(
        Article.objects.filter(status=ArticleStatus.PUBLISHED, published_version__isnull=False)
        .order_by("pk")
        .values_list("published_version_id", flat=True)
    )
    done = computed = 0
    for start in range(0, len(ids), batch):
        versions = list(ArticleVersion.objects.filter(pk__in=ids[start : start + batch]))
        computed += embeddings_compute(versions, force=force)
        done += len(versions)
        if progress is not None:
            progress(done, len(ids))
    bump_generation()
    return computed


def search_index_update(*, article_id: int) -> bool:
    """Bring one article's index row in line with its published version (the job's work).

    Returns whether the article is now searchable. Bumping the generation makes every
    process rebuild its in-memory index and semantic matrix on its next search.
    """
    published = ArticleVersion.objects.filter(
        article_id=article_id, article__published_version=F("pk")
    ).first()
    if published is not None:
        embeddings_compute([published])
    with transaction.atomic():
        article = Article.objects.select_related("published_version").filter(pk=article_id).first()
        ArticleSearchDoc.objects.filter(article_id=article_id).delete()
        searchable = bool(
            article and article.status == ArticleStatus.PUBLISHED and article.published_version_id
        )
        if searchable:
            build_doc(article, article.published_version, _current_analyzer()).save()
        bump_generation()
    return searchable


def _enqueue_reindex(article_id: int) -> None:
    from otklik.knowledge.tasks import reindex_article

    try:
        reindex_article.enqueue(article_id)
    except Exception:
        # The queue is down: the change must not wait for it, so index in this process.
        logger.warning("Could not enqueue re-indexing of article %s", article_id, exc_info=True)
        search_index_update(article_id=article_id)


def search_index_update_later(*, article_id: int) -> None:
    """Re-index the article by a job once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue_reindex(article_id), robust=True)


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
    embeddings_rebuild()  # only versions without a vector: nothing to do in steady state
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
