"""Safe Markdown for articles: raw HTML is escaped by the parser and the output sanitised.

Two layers on purpose: markdown-it with `html` off never passes tags through and refuses
`javascript:` links; nh3 then keeps only an allow-list of tags and attributes, so a parser
bug or a future plugin cannot smuggle script into an operator's or a client's page.
`[[slug]]` links to another article; the caller says where articles live (staff or FAQ).
"""

import re
from collections.abc import Callable

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

WIKI_LINK = re.compile(r"\[\[([A-Za-z0-9_\-\u0400-\u04FF]+)\]\]")

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}


def wiki_slugs(markdown: str) -> list[str]:
    """Slugs an article body links to with `[[slug]]`, in order, without repeats."""
    return list(dict.fromkeys(WIKI_LINK.findall(markdown or "")))


def render_markdown(
    markdown: str, *, link_for: Callable[[str], tuple[str, str] | None] | None = None
) -> SafeString:
    """Article Markdown as sanitised HTML; `link_for(slug)` gives (url, title) or None."""

    def wiki(match: re.Match) -> str:
        slug = match.group(1)
        found = link_for(slug) if link_for else None
        if found is None:
            return slug
        url, title = found
        label = title.replace("[", "(").replace("]", ")")
        return f"[{label}](<{url}>)"

    source = WIKI_LINK.sub(wiki, markdown or "")
    html = _md.render(source)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


def render_plain(text: str) -> SafeString:
    return escape(text or "")
