"""Synthetic contact-centre activity for the cases `generate_load` wrote: interactions
(queue waits, talk and wrap-up times), CSI ratings, NPS answers and handoffs, with
realistic shapes (log-normal durations, most calls answered fast, a tail of abandons,
ratings skewed to 5, NPS bimodal). Batched INSERTs through demo.load's inserter.

Lives in analytics (not demo/load.py) to keep that module small; `generate_load
--analytics` calls it lazily.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connection

from otklik.accounts.models import Department
from otklik.analytics.models import NpsSurvey
from otklik.cases.models import AuthorKind, Case, Interaction, Message, MessageVisibility
from otklik.demo.load import LoadStats, _BulkInserter, _datetime_adapter, _flush, _next_id
from otklik.handoffs.models import Handoff
from otklik.portal.models import CsiRating

CSI_MIX = ((5, 0.55), (4, 0.22), (3, 0.10), (2, 0.06), (1, 0.07))
NPS_MIX = tuple(
    (s, w) for s, w in zip(range(11), (3, 1, 1, 2, 2, 4, 5, 9, 14, 22, 37), strict=True)
)


def _lognormal(rng: random.Random, median: float, sigma: float) -> int:
    return int(rng.lognormvariate(math.log(median), sigma))


def _pick(rng: random.Random, mix) -> int:
    values, weights = zip(*mix, strict=True)
    return rng.choices(values, weights=weights)[0]


def generate_activity(
    *,
    first_case_id: int = 0,
    seed: int = 1,
    batch_size: int = 5000,
    contacts_per_case: float = 2.0,
    log: Callable[[str], None] = lambda message: None,
) -> LoadStats:
    """Interactions, ratings, NPS answers and handoffs for cases with id ≥ first_case_id."""
    rng = random.Random(seed)
    stats = LoadStats()
    adapt = _datetime_adapter()
    departments = list(Department.objects.values_list("pk", flat=True))
    inter = _BulkInserter(
        Interaction,
        [
            "client_id",
            "case_id",
            "channel",
            "direction",
            "operator_id",
            "summary",
            "external_ref",
            "started_at",
            "ended_at",
            "queue_seconds",
            "wrap_up_seconds",
        ],
    )
    msg = _BulkInserter(
        Message,
        ["id", "case_id", "author_kind", "visibility", "body", "created_at"],
    )
    csi = _BulkInserter(
        CsiRating,
        ["case_id", "message_id", "client_id", "score", "comment", "created_at", "updated_at"],
    )
    nps = _BulkInserter(
        NpsSurvey,
        [
            "client_id",
            "case_id",
            "kind",
            "channel",
            "segment",
            "token_hash",
            "sent_at",
            "answered_at",
            "score",
            "comment",
            "team_id",
            "operator_id",
            "topic_id",
            "case_channel",
        ],
    )
    hand = _BulkInserter(
        Handoff,
        [
            "case_id",
            "department_id",
            "question",
            "status",
            "created_by_id",
            "answer",
            "created_at",
            "due_at",
            "answered_at",
        ],
    )
    group = (inter, msg, csi, nps, hand)
    next_message = _next_id(Message)
    next_nps = _next_id(NpsSurvey)
    rows = (
        Case.objects.filter(pk__gte=first_case_id)
        .order_by("pk")
        .values_list(
            "pk",
            "client_id",
            "channel",
            "owner_id",
            "team_id",
            "topic_id",
            "created_at",
            "resolved_at",
            "closed_at",
        )
    )
    started = datetime.now(UTC)
    for pk, client, channel, owner, team, topic, created, resolved, closed in rows.iterator(
        chunk_size=5000
    ):
        t0 = int(created.timestamp())
        n = max(1, min(6, int(rng.expovariate(1 / contacts_per_case)) + 1))
        at = t0
        for i in range(n):
            inbound = i == 0 or rng.random() < 0.7
            queue = min(_lognormal(rng, 12, 1.0), 900) if inbound and channel != "email" else None
            abandoned = queue is not None and queue > 30 and rng.random() < 0.35
            talk = _lognormal(rng, 240 if channel == "phone" else 420, 0.6)
            wrap = _lognormal(rng, 45, 0.5)
            operator = None if abandoned else owner
            inter.add(
                (
                    client,
                    pk,
                    channel,
                    "inbound" if inbound else "outbound",
                    operator,
                    "",
                    "",
                    adapt(at),
                    None if abandoned else adapt(at + (queue or 0) + talk),
                    queue,
                    None if abandoned else wrap,
                )
            )
            at += rng.randrange(600, 4 * 86400)
        if resolved is not None and rng.random() < 0.3:
            rated = int(resolved.timestamp()) + rng.randrange(60, 86400)
            msg.add(
                (
                    next_message,
                    pk,
                    AuthorKind.STAFF,
                    MessageVisibility.PUBLIC,
                    "Ответ",
                    adapt(rated - 30),
                )
            )
            csi.add((pk, next_message, client, _pick(rng, CSI_MIX), "", adapt(rated), adapt(rated)))
            next_message += 1
        if closed is not None and rng.random() < 0.12:
            sent = int(closed.timestamp()) + 600
            answered = rng.random() < 0.35
            nps.add(
                (
                    client,
                    pk,
                    "after_case",
                    "sms",
                    "",
                    f"load-{next_nps}",
                    adapt(sent),
                    adapt(sent + rng.randrange(60, 3 * 86400)) if answered else None,
                    _pick(rng, NPS_MIX) if answered else None,
                    "",
                    team or 0,
                    owner or 0,
                    topic or 0,
                    channel,
                )
            )
            next_nps += 1
        if departments and rng.random() < 0.08:
            asked = t0 + rng.randrange(300, 7200)
            took = _lognormal(rng, 5 * 3600, 1.0)
            done = resolved is not None or rng.random() < 0.6
            hand.add(
                (
                    pk,
                    rng.choice(departments),
                    "Прошу проверить",
                    "answered" if done else "open",
                    owner,
                    "Проверено" if done else "",
                    adapt(asked),
                    adapt(asked + 24 * 3600),
                    adapt(asked + took) if done else None,
                )
            )
        if len(inter.rows) >= batch_size:
            _flush(*group)
            if inter.written % 100_000 < batch_size:
                log(f"  … {inter.written:,} interactions")
    _flush(*group)
    if connection.vendor == "postgresql":
        from otklik.demo.load import _reset_sequences

        _reset_sequences([Message, NpsSurvey])
    stats.rows.update(
        {
            "interactions": inter.written,
            "csi ratings": csi.written,
            "nps surveys": nps.written,
            "handoffs": hand.written,
        }
    )
    stats.seconds["activity"] = (datetime.now(UTC) - started).total_seconds()
    return stats
