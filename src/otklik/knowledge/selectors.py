"""Reads from the knowledge base: search with visibility, articles, diffs, case suggestions."""

import difflib
from dataclasses import dataclass

from django.db.models import Count, F, Max
from django.http import Http404

from otklik.knowledge.models import (
    Acknowledgement,
    Article,
    ArticleKind,
    ArticleStatus,
    ArticleUse,
    ArticleVersion,
    Audience,
    CasePin,
    RefresherDigest,
)
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
    max_df_share: float | None = None,
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
        max_df_share=max_df_share,
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
    from otklik.clients.models import ProductStatus
    from otklik.clients.selectors import client_product_list

    products = client_product_list(client=client)  # shared with the page's other panels
    return SearchContext(
        product_kinds=frozenset(p.kind for p in products if p.status != ProductStatus.CLOSED),
        restriction_kinds=frozenset(r.kind for p in products for r in p.active_restrictions),
        topic_id=topic_id,
        channel=channel,
    )


SUGGESTION_QUERY_WORDS = 24
# A case's notes are long; words in more than a tenth of all articles barely rank anything.
SUGGESTION_MAX_DF_SHARE = 0.1


def case_query_text(case) -> str:
    """What the case is about, for matching: subject, topic, the client's first words and the
    operators' notes — capped, because a whole conversation would drown the point.

    Stays in memory: the text is the client's data and is never logged.
    """
    from otklik.cases.models import AuthorKind, MessageVisibility
    from otklik.cases.selectors import MESSAGES
    from otklik.common.memo import peek

    parts = [case.subject]
    if case.topic_id:
        parts.append(case.topic.name)
    loaded = peek(case, MESSAGES)  # the case page's timeline has read them already
    if loaded is not None:
        messages = [(m.author_kind, m.visibility, m.body) for m in loaded[:20]]
    else:
        messages = case.messages.order_by("created_at").values_list(
            "author_kind", "visibility", "body"
        )[:20]
    client_said = [b for kind, _vis, b in messages if kind == AuthorKind.CLIENT][:1]
    notes = [b for kind, vis, b in messages if vis == MessageVisibility.INTERNAL][:2]
    parts += client_said + notes
    words, seen = [], set()
    for word in " ".join(parts).split():
        key = word.lower().strip('.,:;!?«»"()')
        if key and key not in seen:
            seen.add(key)
            words.append(word)
        if len(words) >= SUGGESTION_QUERY_WORDS:
            break
    return " ".join(words)


# A suggestion scoring under this share of the best one is noise next to it (issue 16: the
# ИИС case showed «Досрочное погашение займа» among its suggestions).
SUGGESTION_MIN_SHARE_OF_TOP = 0.01


def suggestions_relevant(hits: list) -> list:
    """Keep the suggestions that are about this case.

    A search may rank an article on shared words alone («закрытие» of a loan for the closing
    of an ИИС). Suggestions are offered unasked, so they must also fit the case: when some
    hit applies to the client's products, restrictions, the case's topic or channel, hits
    that apply to none of them are dropped; and hits far below the best are dropped too.
    The ranking itself (knowledge/search.py) is untouched.
    """
    if not hits:
        return hits

    def matched(hit) -> list | None:
        applicability = (hit.explain or {}).get("applicability")
        return None if applicability is None else list(applicability.get("matched") or [])

    if any(matched(h) for h in hits):
        hits = [h for h in hits if matched(h) is None or matched(h)]
    floor = hits[0].score * SUGGESTION_MIN_SHARE_OF_TOP if hits else 0
    return [h for h in hits if h.score >= floor]


def suggest_for_case(*, user, case, limit: int = 5) -> SearchResult:
    """Procedures for a case: its subject, topic, question and notes as the query, the
    client's products and restrictions, topic and channel as context; only the hits that
    fit the case (`suggestions_relevant`)."""
    context = context_for_client(case.client, topic_id=case.topic_id, channel=case.channel)
    result = search_articles(
        user=user,
        query=case_query_text(case),
        context=context,
        limit=limit * 2,
        max_df_share=SUGGESTION_MAX_DF_SHARE,
    )
    relevant = suggestions_relevant(result.hits)
    result.more = result.more or len(relevant) > limit
    result.hits = relevant[:limit]
    return result


# --- lists, pins, acknowledgements, refreshers ----------------------------------------------

ARTICLE_SORTS = {
    "title": ("title",),
    "pins": ("-pin_count", "title"),
    "updated": ("-updated_at",),
    "review": (F("review_by").asc(nulls_last=True), "title"),
}


def article_list_for_user(
    *, user, kind: str = "", status: str = "", sort: str = "title"
) -> list[Article]:
    """Articles the user may open, with pin and use counts (editors see drafts too)."""
    qs = Article.objects.select_related("owner").annotate(
        pin_count=Count("pins", distinct=True), use_count=Count("uses", distinct=True)
    )
    if kind in ArticleKind.values:
        qs = qs.filter(kind=kind)
    if can_edit_knowledge(user):
        if status in ArticleStatus.values:
            qs = qs.filter(status=status)
    else:
        qs = qs.filter(status=ArticleStatus.PUBLISHED, audience__in=audience_for(user))
    qs = qs.order_by(*ARTICLE_SORTS.get(sort, ARTICLE_SORTS["title"]))
    role = getattr(user, "role", None)
    if can_edit_knowledge(user):
        return list(qs)
    return [a for a in qs if not a.roles or role in a.roles]


def article_get_public(*, slug: str) -> Article:
    """A published client-facing article for the public FAQ; anything else is a 404."""
    article = (
        Article.objects.select_related("published_version")
        .filter(slug=slug, status=ArticleStatus.PUBLISHED, audience__in=CLIENT_AUDIENCES)
        .first()
    )
    if article is None or article.published_version is None:
        raise Http404
    return article


def article_versions(*, article: Article) -> list[ArticleVersion]:
    return list(article.versions.select_related("author").order_by("-number"))


def version_get(*, article: Article, number: int) -> ArticleVersion:
    version = article.versions.filter(number=number).first()
    if version is None:
        raise Http404
    return version


def article_stats(*, article: Article) -> dict:
    return {
        "pins": article.pins.count(),
        "uses": article.uses.count(),
        "last_pinned": article.pins.aggregate(last=Max("created_at"))["last"],
    }


def related_articles(*, user, article: Article) -> list[Article]:
    """Linked articles the user may open."""
    found = []
    for other in article.related.order_by("title"):
        try:
            found.append(article_get_for_user(user=user, slug=other.slug))
        except Http404:
            continue
    return found


def case_pins(*, case) -> list[CasePin]:
    return list(CasePin.objects.filter(case=case).select_related("article", "version", "user"))


def articles_used_on_case(*, user, case) -> set[int]:
    return set(ArticleUse.objects.filter(case=case, user=user).values_list("article_id", flat=True))


def pending_acks_for_user(*, user) -> list[Acknowledgement]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Acknowledgement.objects.filter(
            user=user, acknowledged_at__isnull=True, article__status=ArticleStatus.PUBLISHED
        )
        .select_related("article", "version")
        .order_by("requested_at")
    )


def can_see_ack_matrix(user) -> bool:
    return bool(user.is_authenticated and getattr(user, "sees_everything", False))


@dataclass
class AckMatrix:
    articles: list[Article]
    rows: list[tuple]  # (user, [Acknowledgement | None per article], pending count)


def ack_matrix(*, user, only_pending: bool = True) -> AckMatrix:
    """Who has (not) acknowledged which procedure versions; supervisors only."""
    if not can_see_ack_matrix(user):
        raise Http404
    acks = list(
        Acknowledgement.objects.filter(article__status=ArticleStatus.PUBLISHED)
        .select_related("user", "user__team", "article", "version")
        .order_by("article__title", "user__last_name")
    )
    latest: dict[tuple[int, int], Acknowledgement] = {}
    for ack in acks:  # the newest request per (user, article)
        key = (ack.user_id, ack.article_id)
        if key not in latest or ack.version.number > latest[key].version.number:
            latest[key] = ack
    pending_articles = {a.article_id for a in latest.values() if a.acknowledged_at is None}
    articles = sorted(
        {a.article_id: a.article for a in latest.values()}.values(), key=lambda a: a.title
    )
    if only_pending:
        articles = [a for a in articles if a.pk in pending_articles]
    users = sorted(
        {a.user_id: a.user for a in latest.values()}.values(),
        key=lambda u: (u.team.name if u.team else "", u.last_name, u.username),
    )
    rows = []
    for person in users:
        cells = [latest.get((person.pk, a.pk)) for a in articles]
        pending = sum(1 for c in cells if c is not None and c.acknowledged_at is None)
        if pending or not only_pending:
            rows.append((person, cells, pending))
    return AckMatrix(articles=articles, rows=rows)


def refreshers_for_user(*, user, unread_only: bool = True) -> list[RefresherDigest]:
    """The user's team's refreshers (newest first), by default those not marked read."""
    team_id = getattr(user, "team_id", None)
    if not team_id:
        return []
    qs = RefresherDigest.objects.filter(team_id=team_id).prefetch_related("articles")
    if unread_only:
        qs = qs.exclude(reads__user=user)
    return list(qs.order_by("-created_at")[:3])


def refresher_get_for_user(*, user, digest_id: int) -> RefresherDigest:
    digest = RefresherDigest.objects.filter(pk=digest_id, team_id=user.team_id).first()
    if digest is None:
        raise Http404
    return digest
