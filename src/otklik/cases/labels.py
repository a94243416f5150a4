"""Labels of history fields that are not columns of Case.

Other apps record `field_changed` events on a case for things they own (the portal's
answer promise, a contact's reachability); the history shows them through this one table
instead of each page special-casing another app.

An operator action writes a history row when requested and another when done; both carry
the run's marker in `old_value`, so the history shows one entry per action (its latest).
"""

from django.utils.translation import gettext_lazy as _

EVENT_FIELD_LABELS = {
    "portal_answer_due": _("answer in the personal cabinet promised by"),
    "portal_answer": _("answer sent to the personal cabinet"),
    "reachability": _("reachability"),
    # orders (otklik.orders): each stage of an order the client signs
    "order": _("order drafted"),
    "order_sent": _("order sent to the client for signature"),
    "order_signed": _("order signed by the client"),
    "order_cancelled": _("order cancelled"),
    "order_step_handed_off": _("order step handed to the back office"),
    "order_completed": _("order carried out"),
    "order_closure_notice": _("closure notice sent to the client"),
    "order_tax_notice": _("tax office notified"),
    "order_card_terms": _("individual card terms set"),
}


def event_field_label(field: str) -> str:
    """The words for a history field another app recorded; never the raw code if known."""
    return str(EVENT_FIELD_LABELS.get(field, field))


RUN_MARKER_PREFIX = "run:"


def run_marker(run) -> str:
    """The `old_value` shared by every history row of one operator action run."""
    return f"{RUN_MARKER_PREFIX}{run.pk}"
