"""Template tags for presence bars and the reply guard (the `seen` marker in reply forms)."""

from django import template

from otklik.cases.freshness import case_seen_marker

register = template.Library()


@register.inclusion_tag("presence/_reply_guard.html", takes_context=True)
def reply_guard(context, case, draft_kind: str, typing: str = "reply"):
    """Hidden `seen` marker for a reply form (and, after a held send, what changed).

    The marker is the newest case event when the form was rendered, or the one a held
    reply was shown; it is read once per page (one indexed query) and kept in the context.
    """
    held = context.get("held_changes")
    marker = held.marker if held is not None else _marker(context, case)
    return {"held": held, "marker": marker, "draft_kind": draft_kind, "typing": typing}


@register.inclusion_tag("presence/_bar.html", takes_context=True)
def presence_bar(context, kind: str, obj):
    """The "also here" bar of a case page or client card; filled over its socket."""
    marker = _marker(context, obj) if kind == "case" else 0
    return {"kind": kind, "obj": obj, "marker": marker, "user": context["request"].user}


def _marker(context, case) -> int:
    """The case's newest event id, read once per page (kept on the case object the page's
    panels share): the bar's "opened" and every form's `seen` are the same number."""
    marker = getattr(case, "_presence_seen_marker", None)
    if marker is None:
        marker = case_seen_marker(case=case)
        case._presence_seen_marker = marker
    return marker
