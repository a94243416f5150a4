"""Replaying create requests retried with the same `Idempotency-Key`.

The key row is inserted in the same transaction as the object it created, so either both
exist or neither does: a refused request (422) stores nothing and its key stays free for
a corrected retry. A retry, or two concurrent requests with one key, race on the
(user, key) unique constraint; the loser's transaction, object included, rolls back and
it replays the winner's response. Side effects outside the database (live pushes,
e-mails) are queued with `on_commit`, so the rolled-back attempt leaves no trace.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Status
from ninja.errors import ValidationError as NinjaValidationError

from otklik.accounts.models import User
from otklik.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"

IdempotencyKeyHeader = Header(
    None,
    alias=HEADER,
    min_length=1,
    max_length=200,
    pattern=r"^[\x21-\x7e]+$",
    description="Retrying with the same key and body replays the first response.",
)


def _request_hash(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(user: User, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user=user, key=key).first()


def _replay(row: IdempotencyKey, endpoint: str, request_hash: str) -> tuple[int, dict]:
    if row.endpoint != endpoint or row.request_hash != request_hash:
        raise NinjaValidationError(
            [
                {
                    "loc": ["header", HEADER],
                    "msg": _(
                        "This Idempotency-Key was already used for a different request; "
                        "use a new key."
                    ),
                    "type": "idempotency_key_reused",
                }
            ]
        )
    return row.response_status, row.response_body


def idempotent(
    *,
    request: HttpRequest,
    response: HttpResponse,
    user: User,
    key: str | None,
    payload: dict,
    create: Callable[..., tuple[int, dict]],
    prepare: Callable[[], Any] | None = None,
) -> Status:
    """Run `create` (which returns status and JSON body) at most once per user and key.

    `prepare`, when given, does the reads (visibility checks, lookups) before the write
    transaction and its result is passed to `create`: on SQLite the single write lock is
    then held only for the writes, so concurrent intakes overlap their reads.
    """
    if key is None:
        return Status(*(create(prepare()) if prepare else create()))
    endpoint = f"{request.method} {request.path}"[:200]
    request_hash = _request_hash(payload)
    # Optimistic: a retry is rare, so the key is not looked up first. The work and the key
    # row commit together; if the key exists the unique constraint refuses the row, the
    # work rolls back, and the stored response is replayed. A retry whose work now fails
    # (say the topic was archived since) still gets the first response, not the error.
    try:
        prepared = prepare() if prepare else None
        with transaction.atomic():
            status, body = create(prepared) if prepare else create()
            IdempotencyKey.objects.create(
                user=user,
                key=key,
                endpoint=endpoint,
                request_hash=request_hash,
                response_status=status,
                response_body=body,
            )
            return Status(status, body)
    except Exception:
        row = _stored(user, key)
        if row is None:  # a first request that failed: its own error stands
            raise
    replayed = _replay(row, endpoint, request_hash)
    response[REPLAY_HEADER] = "true"
    return Status(*replayed)
