"""Template helpers: the case page's procedure panel, the header banner, safe Markdown.

The workspace only includes our templates; these tags fetch what they show through the
knowledge selectors, with the same permission checks as the views.
"""

from typing import Any

from django import template
from django.urls import reverse

from otklik.knowledge import selectors
from otklik.knowledge.models import Article, ArticleStatus
from otklik.knowledge.rendering import render_markdown

register = template.Library()


def case_panel_context(*, user, case) -> dict[str, Any]:
    """Suggested and pinned procedures for the case, as `user` may see them."""
    pins = selectors.case_pins(case=case)
    result = selectors.suggest_for_case(user=user, case=case, limit=5)
    pinned = {p.article_id for p in pins}
    used = selectors.articles_used_on_case(user=user, case=case)
    return {
        "case": case,
        "hits": result.hits,
        "pins": pins,
        "pinned_ids": pinned,
        "used_ids": used,
        "panel_error": "",
    }


@register.simple_tag(takes_context=True)
def knowledge_case_panel(context, case) -> dict[str, Any]:
    """`{% knowledge_case_panel case as kp %}`."""
    return case_panel_context(user=context["request"].user, case=case)


@register.simple_tag(takes_context=True)
def knowledge_banner(context) -> dict[str, Any]:
    """`{% knowledge_banner as kb %}`: pending acknowledgements and unread refreshers."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(user, "role"):
        return {"acks": [], "refreshers": []}
    return {
        "acks": selectors.pending_acks_for_user(user=user),
        "refreshers": selectors.refreshers_for_user(user=user),
    }


def _staff_link(slug: str):
    article = Article.objects.filter(slug=slug).only("title", "slug").first()
    if article is None:
        return None
    return reverse("knowledge:article", args=[slug]), article.title


def _public_link(slug: str):
    article = (
        Article.objects.filter(
            slug=slug, status=ArticleStatus.PUBLISHED, audience__in=selectors.CLIENT_AUDIENCES
        )
        .only("title", "slug")
        .first()
    )
    if article is None:
        return None
    return reverse("faq:article", args=[slug]), article.title


@register.filter
def markdown(text: str):
    """Article Markdown for staff pages; `[[slug]]` links to the staff article page."""
    return render_markdown(text, link_for=_staff_link)


@register.filter
def markdown_public(text: str):
    """Article Markdown for the public FAQ; links only to client-facing articles."""
    return render_markdown(text, link_for=_public_link)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
