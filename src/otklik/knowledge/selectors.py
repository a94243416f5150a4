"""Reads from the knowledge base: search with visibility, articles, diffs, case suggestions."""

import difflib

from django.http import Http404

from otklik.knowledge.models import Article, ArticleStatus, ArticleVersion, Audience
from otklik.knowledge.search import SearchContext, SearchResult, search
from otklik.knowledge.services import can_edit_knowledge

CLIENT_AUDIENCES = frozenset({Audience.CLIENT, Audience.BOTH})
STAFF_AUDIENCES = frozenset({Audience.INTERNAL, Audience.CLIENT, Audience.BOTH})


def audience_for(user) -> frozenset[str]:
    """Staff see every audience; anonymous visitors and clients only client-facing articles."""
    if user is not None and user.is_authenticated and user.is_active and hasattr(user, "role"):
        return STAFF_AUDIENCES
    return CLIENT_AUDIENCES


def search_articles(
    *,
    user,
    query: str,
    context: SearchContext | None = None,
    limit: int = 10,
    as_you_type: bool = False,
    audience: str | None = None,
) -> SearchResult:
    """Search published articles the user may see; `audience` narrows (e.g. «as a client»)."""
    audiences = audience_for(user)
    if audience == Audience.CLIENT:
        audiences = audiences & CLIENT_AUDIENCES
    role = getattr(user, "role", None) if audiences == STAFF_AUDIENCES else None
    return search(
        query,
        audiences=audiences,
        role=role,
        context=context,
        limit=max(1, min(limit, 50)),
        as_you_type=as_you_type,
    )


def article_get_for_user(*, user, slug: str) -> Article:
    """The article if the user may read it: editors any, others only published and visible."""
    article = Article.objects.select_related("published_version").filter(slug=slug).first()
    if article is None:
        raise Http404
    if can_edit_knowledge(user):
        return article
    visible = (
        article.status == ArticleStatus.PUBLISHED
        and article.audience in audience_for(user)
        and (not article.roles or getattr(user, "role", None) in article.roles)
    )
    if not visible:
        raise Http404
    return article


def version_diff(*, version: ArticleVersion) -> str:
    """Unified diff of a version against the previous one (title, steps and body)."""
    previous = (
        ArticleVersion.objects.filter(article_id=version.article_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )

    def lines(v: ArticleVersion | None) -> list[str]:
        if v is None:
            return []
        return [f"# {v.title}", *(f"- {s}" for s in v.steps), *v.body.splitlines()]

    return "\n".join(
        difflib.unified_diff(
            lines(previous),
            lines(version),
            fromfile=f"v{previous.number}" if previous else "",
            tofile=f"v{version.number}",
            lineterm="",
        )
    )


def context_for_client(client, *, topic_id: int | None = None, channel: str | None = None):
    """Applicability context from the client's open products and active restrictions."""
    from otklik.clients.models import ProductStatus, Restriction

    products = client.products.exclude(status=ProductStatus.CLOSED).values_list("kind", flat=True)
    restrictions = Restriction.objects.filter(
        product__client=client, lifted_at__isnull=True
    ).values_list("kind", flat=True)
    return SearchContext(
        product_kinds=frozenset(products),
        restriction_kinds=frozenset(restrictions),
        topic_id=topic_id,
        channel=channel,
    )


def suggest_for_case(*, user, case, limit: int = 5) -> SearchResult:
    """Procedures for a case: its subject as the query, its client and topic as context."""
    context = context_for_client(case.client, topic_id=case.topic_id, channel=case.channel)
    query = case.subject
    if case.topic_id:
        query = f"{query} {case.topic.name}"
    return search_articles(user=user, query=query, context=context, limit=limit)
