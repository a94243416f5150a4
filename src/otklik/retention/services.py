"""The retention job: anonymise or delete, class by class, what is past its term.

Work goes in batches of `OTKLIK_RETENTION_BATCH_SIZE` ids, one transaction each, so a
run can be stopped (batch or time limit) or killed at any point and the next run goes
on from what is still due. Every run leaves a `RetentionRun` row with counts per class
(no personal data) and a log line; a run that changed something also an audit record.
"""

import logging
import time
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from otklik.audit.services import audit_record
from otklik.retention.anonymise import placeholder_id
from otklik.retention.models import RetentionRun, RunTrigger
from otklik.retention.policy import Term, active_terms
from otklik.retention.sources import SOURCES, Context, Source

logger = logging.getLogger(__name__)


class _Budget:
    """Stops a run after so many batches or seconds (None: no limit)."""

    def __init__(self, max_batches: int | None, seconds: float | None):
        self.batches_left = max_batches
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def spent(self) -> bool:
        if self.batches_left is not None and self.batches_left <= 0:
            return True
        return self.deadline is not None and time.monotonic() >= self.deadline

    def take(self) -> None:
        if self.batches_left is not None:
            self.batches_left -= 1


def _empty_counts() -> dict[str, int]:
    return {"anonymised": 0, "deleted": 0, "files": 0}


def _run_source(
    source: Source, term: Term, ctx: Context, batch_size: int, budget: _Budget
) -> tuple[dict[str, int], bool]:
    """Work one source until nothing is due or the budget is spent; (counts, finished)."""
    counts = _empty_counts()
    if ctx.dry_run:
        counts[source.outcome] = source.due(term, ctx).count()
        return counts, True
    last_pk = None
    while True:
        if budget.spent():
            return counts, False
        due = source.due(term, ctx).order_by("pk")
        if last_pk is not None:  # never the same row twice in one run
            due = due.filter(pk__gt=last_pk)
        ids = list(due.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return counts, True
        with transaction.atomic():
            counts["files"] += source.apply(ids, ctx)
        budget.take()
        counts[source.outcome] += len(ids)
        last_pk = ids[-1]
        if len(ids) < batch_size:
            return counts, True


def _summary(counts: dict[str, dict[str, int]]) -> str:
    """`closed_cases a=3 f=1; outbox d=40`: only the classes where something happened."""
    parts = []
    for name, c in counts.items():
        done = [f"{key[0]}={c[key]}" for key in ("anonymised", "deleted", "files") if c[key]]
        if done:
            parts.append(f"{name} {' '.join(done)}")
    return "; ".join(parts)


def retention_run(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    trigger: str = RunTrigger.COMMAND,
    batch_size: int | None = None,
    max_batches: int | None = None,
    seconds: float | None = None,
) -> RetentionRun:
    """Anonymise or delete what is past its term (or, dry, count it); returns the run row."""
    now = now or timezone.now()
    terms = active_terms(now)
    batch_size = batch_size or settings.OTKLIK_RETENTION_BATCH_SIZE
    run = RetentionRun.objects.create(trigger=trigger, dry_run=dry_run, started_at=now)
    ctx = Context(now=now, dry_run=dry_run, placeholder=placeholder_id())
    budget = _Budget(max_batches, seconds)
    counts: dict[str, dict[str, int]] = {}
    complete = True
    for term in terms:
        counts[term.name] = _empty_counts()
        for source in SOURCES[term.name]:
            done, finished = _run_source(source, term, ctx, batch_size, budget)
            for key, value in done.items():
                counts[term.name][key] += value
            complete = complete and finished
    run.counts = {term.name: {**counts[term.name], "days": term.days} for term in terms}
    run.finished_at = timezone.now()
    run.complete = complete
    run.save(update_fields=["counts", "finished_at", "complete"])
    summary = _summary(counts) or "nothing due"
    logger.info(
        "Retention %s%s: %s%s",
        trigger,
        " (dry run)" if dry_run else "",
        summary,
        "" if complete else " (stopped at its limit; the rest is left for the next run)",
    )
    if not dry_run and _summary(counts):
        audit_record(actor=None, action="retention_run", via="retention", obj=run, detail=summary)
    return run


def retention_scan(now: datetime | None = None) -> RetentionRun:
    """The worker's periodic scan: a run bounded by OTKLIK_RETENTION_SCAN_SECONDS."""
    return retention_run(
        now=now, trigger=RunTrigger.SCAN, seconds=settings.OTKLIK_RETENTION_SCAN_SECONDS
    )
