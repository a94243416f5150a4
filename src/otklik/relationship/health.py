"""Client health: each criterion of the client's package level met or not, and by how much.

Criteria are data (`HealthCriterion`); values come from the back-office feed
(`MetricValue`). `health_recompute` turns the day's feed into `HealthResult` rows and a
`HealthSummary` per client (score, fee-free or how much is missing) in chunks, with
bulk upserts, so 100 000 clients take seconds rather than a query per client. Per
criterion only the results the call list reads are stored (paid-for products unused).
"""

import calendar
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from otklik.clients.models import Client
from otklik.relationship.models import (
    Comparison,
    CriterionKind,
    HealthCriterion,
    HealthResult,
    HealthSummary,
    MetricValue,
    Relationship,
)

CHUNK = 5000
UPSERT_BATCH = 2000
#: A daily value older than this is stale: the criterion counts as not met.
DAILY_LOOKBACK_DAYS = 7


def month_start(day: date) -> date:
    return day.replace(day=1)


def days_left_in_month(day: date) -> int:
    """Days left for the client to act, today included (the 3rd of a 31-day month: 29)."""
    return calendar.monthrange(day.year, day.month)[1] - day.day + 1


@dataclass(frozen=True)
class CriterionResult:
    criterion: HealthCriterion
    value: Decimal | None
    met: bool
    gap: Decimal  # how far from the threshold: missing when not met, surplus when met


def evaluate(criterion: HealthCriterion, value: Decimal | None) -> CriterionResult:
    """Compare one value with one criterion; a missing value never meets it."""
    threshold = criterion.threshold
    if value is None:
        missing = threshold if criterion.comparison == Comparison.GTE else Decimal(0)
        return CriterionResult(criterion, None, False, missing)
    met = value >= threshold if criterion.comparison == Comparison.GTE else value <= threshold
    return CriterionResult(criterion, value, met, abs(threshold - value))


def _criteria_by_level() -> dict[int, list[HealthCriterion]]:
    by_level: dict[int, list[HealthCriterion]] = defaultdict(list)
    for criterion in HealthCriterion.objects.filter(active=True).select_related("metric"):
        by_level[criterion.package_level_id].append(criterion)
    return by_level


def _values(
    client_filter: dict, criteria: list[HealthCriterion], today: date
) -> dict[tuple[int, int, bool], Decimal]:
    """(client, metric, monthly) -> value: this month's aggregate, or the latest daily value."""
    monthly = {c.metric_id for c in criteria if c.monthly}
    daily = {c.metric_id for c in criteria if not c.monthly}
    found: dict[tuple[int, int, bool], Decimal] = {}
    if monthly:
        rows = MetricValue.objects.filter(
            **client_filter, metric_id__in=monthly, period=month_start(today)
        ).values_list("client_id", "metric_id", "value")
        for client_id, metric_id, value in rows:
            found[(client_id, metric_id, True)] = value
    if daily:
        rows = (
            MetricValue.objects.filter(
                **client_filter,
                metric_id__in=daily,
                period__lte=today,
                period__gt=today - timedelta(days=DAILY_LOOKBACK_DAYS),
            )
            .order_by("period")
            .values_list("client_id", "metric_id", "value")
        )
        for client_id, metric_id, value in rows:
            found[(client_id, metric_id, False)] = value
    return found


@dataclass
class ClientHealth:
    results: list[CriterionResult]
    score: int
    fee_free: bool
    fee_shortfall: Decimal
    fee_criterion: HealthCriterion | None


def summarise(results: list[CriterionResult]) -> ClientHealth:
    """Score (weighted share met) and the fee-free verdict: any fee-free criterion met."""
    total = sum(r.criterion.weight for r in results)
    met = sum(r.criterion.weight for r in results if r.met)
    fee = [r for r in results if r.criterion.kind == CriterionKind.FEE_WAIVER]
    fee_free = not fee or any(r.met for r in fee)
    shortfall, which = Decimal(0), None
    if not fee_free:
        # The criterion a call can still change this month: the monthly one closest to met.
        monthly = [r for r in fee if r.criterion.monthly and r.criterion.comparison == "gte"]
        if monthly:
            best = min(monthly, key=lambda r: r.gap)
            shortfall, which = best.gap, best.criterion
    return ClientHealth(
        results=results,
        score=round(100 * met / total) if total else 100,
        fee_free=fee_free,
        fee_shortfall=shortfall,
        fee_criterion=which,
    )


def client_health(*, client: Client, today: date | None = None) -> ClientHealth | None:
    """The client's health now, from the feed as it stands (None without a package level)."""
    today = today or timezone.localdate()
    rel = Relationship.objects.filter(client=client).first()
    if rel is None or rel.package_level_id is None:
        return None
    criteria = _criteria_by_level().get(rel.package_level_id, [])
    values = _values({"client_id": client.pk}, criteria, today)
    return summarise(
        [evaluate(c, values.get((client.pk, c.metric_id, c.monthly))) for c in criteria]
    )


def _chunks(client_ids: Iterable[int] | None) -> Iterator[tuple[dict, list[tuple[int, int]]]]:
    """(filter on MetricValue, [(client, level)]) per chunk of clients with a level."""
    rels = Relationship.objects.filter(package_level__isnull=False).order_by("client_id")
    if client_ids is not None:
        ids = sorted(set(client_ids))
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            pairs = list(
                rels.filter(client_id__in=part).values_list("client_id", "package_level_id")
            )
            yield {"client_id__in": [c for c, _ in pairs]}, pairs
        return
    last = 0
    while True:
        pairs = list(
            rels.filter(client_id__gt=last).values_list("client_id", "package_level_id")[:CHUNK]
        )
        if not pairs:
            return
        yield {"client_id__gte": pairs[0][0], "client_id__lte": pairs[-1][0]}, pairs
        last = pairs[-1][0]


SUMMARY_FIELDS = (
    "score",
    "met",
    "total",
    "fee_free",
    "fee_shortfall",
    "fee_criterion_id",
    "computed_at",
)


def _upsert(model, keys: tuple[str, ...], fields: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE of plain tuples (keys then fields), one prepared
    statement for every row (`executemany`). The ORM's `bulk_create(update_conflicts=…)`
    builds a model instance per row and compiles every value: on SQLite that was four
    fifths of a 100 000-client recompute (docs/benchmarks.md). Both backends speak this
    SQL; values are adapted by the driver adapters Django registers (Decimal, bool)."""
    if not rows:
        return
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in (*keys, *fields))
    marks = ", ".join(["%s"] * (len(keys) + len(fields)))
    updates = ", ".join(f"{q(f)} = excluded.{q(f)}" for f in fields)
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({columns}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(q(k) for k in keys)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_BATCH):
            cursor.executemany(sql, rows[start : start + UPSERT_BATCH])


def health_recompute(
    *, client_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Recompute results and summaries (all clients, or the given ones); the number done."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    by_level = _criteria_by_level()
    every = [c for crit in by_level.values() for c in crit]
    stamp = connection.ops.adapt_datetimefield_value(now)
    done = 0
    for client_filter, pairs in _chunks(client_ids):
        values = _values(client_filter, every, today)
        results: list[tuple] = []
        summaries: list[tuple] = []
        for client_id, level_id in pairs:
            criteria = by_level.get(level_id, [])
            evaluated = [
                evaluate(c, values.get((client_id, c.metric_id, c.monthly))) for c in criteria
            ]
            health = summarise(evaluated)
            # Only what the call list reads is stored per criterion (products paid for
            # but unused); the full breakdown of one client is computed when asked.
            results.extend(
                (client_id, r.criterion.pk, r.value, r.met, r.gap)
                for r in evaluated
                if r.criterion.kind == CriterionKind.PAID_UNUSED
            )
            fee = health.fee_criterion
            summaries.append(
                (
                    client_id,
                    health.score,
                    sum(1 for r in evaluated if r.met),
                    len(evaluated),
                    health.fee_free,
                    health.fee_shortfall,
                    fee.pk if fee else None,
                    stamp,
                )
            )
        with transaction.atomic():
            _upsert(HealthResult, ("client_id", "criterion_id"), ("value", "met", "gap"), results)
            _upsert(HealthSummary, ("client_id",), SUMMARY_FIELDS, summaries)
        done += len(pairs)
    return done
