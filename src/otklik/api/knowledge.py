"""Knowledge-base search and articles. Open to anonymous callers, who get client-facing
articles only; staff (token or session) also get internal procedures their role may see.

Articles hold no personal data, so reads are not audited.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from otklik.api.auth import BearerTokenAuth, SessionCsrfAuth
from otklik.api.schemas import READ_ERRORS, Text200
from otklik.knowledge.models import ArticleStatus
from otklik.knowledge.selectors import article_get_for_user, search_articles


def anonymous(request: HttpRequest):
    """No credentials at all: an anonymous reader. A wrong token stays a 401."""
    if request.headers.get("Authorization"):
        return None
    return AnonymousUser()


router = Router(tags=["knowledge"], auth=[BearerTokenAuth(), SessionCsrfAuth(), anonymous])


class SearchQuery(Schema):
    q: Text200
    limit: int = Field(10, ge=1, le=50)


class HitOut(Schema):
    slug: str
    kind: str
    audience: str
    title: str
    score: float
    title_html: str
    snippet_html: str


class SearchOut(Schema):
    query: str
    understood_as: str
    more: bool
    hits: list[HitOut]


class ArticleOut(Schema):
    slug: str
    kind: str
    audience: str
    title: str
    version: int
    steps: list[str]
    body_markdown: str
    updated_at: str


def _reader(request: HttpRequest):
    user = request.auth
    return user if getattr(user, "is_authenticated", False) else AnonymousUser()


@router.get("/knowledge/search", response={200: SearchOut, **READ_ERRORS})
def knowledge_search(request: HttpRequest, params: Query[SearchQuery]):
    # The same as-you-type search as the screen: «закр» finds «закрыть».
    result = search_articles(
        user=_reader(request), query=params.q, limit=params.limit, as_you_type=True
    )
    return {
        "query": result.query,
        "understood_as": result.understood_as,
        "more": result.more,
        "hits": [
            {
                "slug": h.slug,
                "kind": h.kind,
                "audience": h.audience,
                "title": h.title,
                "score": round(h.score, 4),
                "title_html": str(h.title_html),
                "snippet_html": str(h.snippet_html),
            }
            for h in result.hits
        ],
    }


@router.get("/knowledge/articles/{slug}", response={200: ArticleOut, **READ_ERRORS})
def knowledge_article(request: HttpRequest, slug: str):
    """The published text; drafts and archived articles are not served here, even to editors."""
    article = article_get_for_user(user=_reader(request), slug=slug)
    version = article.published_version
    if article.status != ArticleStatus.PUBLISHED or version is None:
        raise Http404
    return {
        "slug": article.slug,
        "kind": article.kind,
        "audience": article.audience,
        "title": version.title,
        "version": version.number,
        "steps": list(version.steps),
        "body_markdown": version.body,
        "updated_at": article.updated_at.isoformat(),
    }
