"""Writes on orders: draft, send for signature, sign with a one-time code, run the workflow.

The package is split by stage; every public name is re-exported here so callers keep
importing `from otklik.orders import services`:

- `common`: limits, errors, small helpers, stored documents;
- `drafting`: fields from the client card, drafting, sending, cancelling;
- `signing`: one-time signing codes and the signature itself;
- `workflow`: the step runner, its periodic scan, staff retrying or resolving steps;
- `effects`: what the steps do (called by the executors in `orders/steps.py`).
"""

from .common import (
    CODE_MAX_ATTEMPTS,
    CODE_REQUESTS_FREE,
    CODE_REQUESTS_PER_IP,
    CODE_TTL,
    MAX_FIELD,
    PAUSE_ENV,
    THROTTLE_WINDOW_SECONDS,
    WRONG_CODES_PER_IP,
    DocumentDamaged,
    Throttled,
    _attempts,
    _pacing,
    document_read,
    document_store,
    portal_order_url,
)
from .drafting import (
    OrderPreview,
    order_cancel,
    order_draft,
    order_fields_prefill,
    order_preview,
    order_products,
    order_send_for_signature,
    order_text_render,
)
from .effects import (
    card_terms_record,
    closure_notice_announce,
    closure_notice_issue,
    tax_notice_record,
)
from .signing import (
    SigningChallenge,
    order_sign,
    order_signing_code_reissue,
    order_signing_code_request,
)
from .workflow import (
    DUE_STATUSES,
    HANDED_OFF,
    UNFREEZE_ROLES,
    backoff_delay,
    fund_units_unfreeze,
    kick,
    order_assets_unfreeze,
    order_step_resolve,
    order_step_retry,
    workflow_advance,
    workflow_scan,
)

__all__ = [
    "CODE_MAX_ATTEMPTS",
    "CODE_REQUESTS_FREE",
    "CODE_REQUESTS_PER_IP",
    "CODE_TTL",
    "DUE_STATUSES",
    "HANDED_OFF",
    "MAX_FIELD",
    "PAUSE_ENV",
    "THROTTLE_WINDOW_SECONDS",
    "UNFREEZE_ROLES",
    "WRONG_CODES_PER_IP",
    "DocumentDamaged",
    "OrderPreview",
    "SigningChallenge",
    "Throttled",
    "_attempts",
    "_pacing",
    "backoff_delay",
    "card_terms_record",
    "closure_notice_announce",
    "closure_notice_issue",
    "document_read",
    "document_store",
    "fund_units_unfreeze",
    "kick",
    "order_assets_unfreeze",
    "order_cancel",
    "order_draft",
    "order_fields_prefill",
    "order_preview",
    "order_products",
    "order_send_for_signature",
    "order_sign",
    "order_signing_code_reissue",
    "order_signing_code_request",
    "order_step_resolve",
    "order_step_retry",
    "order_text_render",
    "portal_order_url",
    "tax_notice_record",
    "workflow_advance",
    "workflow_scan",
]
