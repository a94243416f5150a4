"""Labels of history fields that are not columns of Case.

Other apps record `field_changed` events on a case for things they own (the portal's
answer promise, a contact's reachability); the history shows them through this one table
instead of each page special-casing another app.
"""

from django.utils.translation import gettext_lazy as _

EVENT_FIELD_LABELS = {
    "portal_answer_due": _("answer in the personal cabinet promised by"),
    "portal_answer": _("answer sent to the personal cabinet"),
    "reachability": _("reachability"),
}
