"""A held reply's changes as one line of text, for pages that can only flash a message."""

from django.utils.translation import gettext as _

from otklik.cases.freshness import CaseChanges
from otklik.cases.models import AuthorKind


def held_summary(changes: CaseChanges) -> str:
    """«Not sent: the case changed since you opened it — Client: «…»; Status changed: …»."""
    parts: list[str] = []
    for m in changes.messages:
        if m.author_kind == AuthorKind.CLIENT:
            who = _("Client")
        else:
            who = m.author.display_name if m.author else _("System")
        text = m.body if len(m.body) <= 200 else m.body[:199] + "…"
        parts.append(f"{who}: «{text}»")
    for e in changes.events:
        who = e.actor.display_name if e.actor else _("System")
        parts.append(f"{who}: {e.get_kind_display()} {e.old_value} → {e.new_value}")
    if changes.more:
        parts.append(_("and %(n)s more") % {"n": changes.more})
    return _(
        "Not sent: the case changed since you opened it (%(changes)s). Your text is kept "
        "in the form: read the case, then send it again or edit it."
    ) % {"changes": "; ".join(parts)}
