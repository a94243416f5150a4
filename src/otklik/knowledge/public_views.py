"""The public FAQ: client-facing articles, searchable without logging in.

Everything here searches and reads as an anonymous visitor, whoever is logged in, so an
internal procedure can never appear on these pages.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from otklik.knowledge import selectors
from otklik.knowledge.models import Audience

ANONYMOUS = AnonymousUser()


def _search(q: str):
    if not q.strip():
        return None
    return selectors.search_articles(
        user=ANONYMOUS, query=q[:200], limit=8, as_you_type=True, audience=Audience.CLIENT
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    return render(request, "knowledge/faq_home.html", {"q": q, "result": _search(q)})


@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    return render(request, "knowledge/_faq_results.html", {"q": q, "result": _search(q)})


@require_GET
def article(request: HttpRequest, slug: str) -> HttpResponse:
    found = selectors.article_get_public(slug=slug)
    return render(
        request,
        "knowledge/faq_article.html",
        {"article": found, "version": found.published_version},
    )
