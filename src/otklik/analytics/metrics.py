"""The metric definitions of docs/metrics.md as plain functions over plain values.

Nothing here touches the database: the rollups (`facts.py`) decide per row with these
functions, the dashboard turns summed counters into figures with them, and the unit tests
check them on hand-computed fixtures. Keep this file and docs/metrics.md in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

# Age buckets of the backlog: (label, lower bound inclusive, upper bound exclusive).
AGE_BUCKETS: tuple[tuple[str, timedelta, timedelta | None], ...] = (
    ("<1d", timedelta(0), timedelta(days=1)),
    ("1-3d", timedelta(days=1), timedelta(days=3)),
    ("3-7d", timedelta(days=3), timedelta(days=7)),
    ("7-30d", timedelta(days=7), timedelta(days=30)),
    (">30d", timedelta(days=30), None),
)


def round_half_up(value: float | Decimal, places: int = 0) -> Decimal:
    """Commercial rounding, half away from zero (12.5 → 13, −12.5 → −13), not banker's."""
    quantum = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def share(part: int, whole: int) -> Decimal | None:
    """Per cent with one decimal, or None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return round_half_up(Decimal(100) * part / whole, 1)


def mean(total: float, count: int, places: int = 2) -> Decimal | None:
    """A mean from a summed counter; None for no data (never 0, which would be a figure)."""
    if count <= 0:
        return None
    return round_half_up(Decimal(str(total)) / count, places)


# --- CSI ------------------------------------------------------------------------------


def csi_is_good(score: int) -> bool:
    """A rating of 4 or 5 counts as satisfied."""
    return score >= 4


def check_csi(score: int) -> int:
    if not 1 <= score <= 5:
        raise ValueError(f"CSI rating must be 1–5, got {score}")
    return score


@dataclass(frozen=True)
class Csi:
    count: int
    mean: Decimal | None
    good_share: Decimal | None


def csi_from_counts(count: int, total: int, good: int) -> Csi:
    return Csi(count=count, mean=mean(total, count), good_share=share(good, count))


def csi(scores: Iterable[int]) -> Csi:
    """Mean rating (2 decimals) and share of 4–5 over all ratings given in the period."""
    values = [check_csi(s) for s in scores]
    return csi_from_counts(len(values), sum(values), sum(1 for s in values if csi_is_good(s)))


# --- NPS ------------------------------------------------------------------------------


def nps_class(score: int) -> str:
    """9–10 promoter, 7–8 passive, 0–6 detractor."""
    if not 0 <= score <= 10:
        raise ValueError(f"NPS answer must be 0–10, got {score}")
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


@dataclass(frozen=True)
class Nps:
    count: int
    promoters: int
    detractors: int
    score: int | None


def nps_from_counts(count: int, promoters: int, detractors: int) -> Nps:
    """NPS = %promoters − %detractors, computed from counts and rounded once, half away
    from zero, to a whole number (rounding the two shares first can be off by one)."""
    value = None
    if count > 0:
        value = int(round_half_up(Decimal(100) * (promoters - detractors) / count))
    return Nps(count=count, promoters=promoters, detractors=detractors, score=value)


def nps(scores: Iterable[int]) -> Nps:
    classes = [nps_class(s) for s in scores]
    return nps_from_counts(len(classes), classes.count("promoter"), classes.count("detractor"))


# --- FCR ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What FCR needs to know of a case (and of the client's other cases)."""

    id: int
    client_id: int
    topic_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    inbound_contacts: int
    reopened: bool = False


def is_first_contact_resolution(
    case: CaseFacts,
    others: Sequence[CaseFacts],
    *,
    repeat_days: int,
    contacts_after_resolution: Sequence[datetime] = (),
) -> bool:
    """A resolved case counts for FCR when

    1. it took at most one inbound contact (a case the operator opened with no inbound
       contact counts as one contact), it was never reopened, and
    2. the client did not come back within `repeat_days` after the resolution: no inbound
       contact on this case and no other case of the same client on the same topic (no
       topic matches no topic) created in (resolved_at, resolved_at + repeat_days].
    """
    if case.resolved_at is None:
        raise ValueError("FCR is defined for resolved cases only")
    if case.inbound_contacts > 1 or case.reopened:
        return False
    end = case.resolved_at + timedelta(days=repeat_days)
    if any(case.resolved_at < at <= end for at in contacts_after_resolution):
        return False
    for other in others:
        if other.id == case.id or other.client_id != case.client_id:
            continue
        if other.topic_id == case.topic_id and case.resolved_at < other.created_at <= end:
            return False
    return True


# --- SL / ASA -------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A contact offered to the centre: answered after `wait` seconds, or not (None)."""

    channel: str
    wait: float | None


@dataclass(frozen=True)
class ServiceLevel:
    offered: int
    answered: int
    in_sl: int
    sl: Decimal | None
    asa_seconds: Decimal | None


def sl_from_counts(offered: int, answered: int, in_sl: int, wait_total: float) -> ServiceLevel:
    """SL = answered within the threshold / offered (abandoned and unanswered count against
    it); ASA = mean wait of the answered ones, in seconds (1 decimal)."""
    return ServiceLevel(
        offered=offered,
        answered=answered,
        in_sl=in_sl,
        sl=share(in_sl, offered),
        asa_seconds=mean(wait_total, answered, 1),
    )


def answered_in_sl(wait: float | None, threshold: float) -> bool:
    return wait is not None and wait <= threshold


def service_level(offers: Iterable[Offer], thresholds: dict[str, int]) -> dict[str, ServiceLevel]:
    """SL and ASA per channel; a channel with no threshold is not measured (KeyError)."""
    per: dict[str, list[Offer]] = {}
    for offer in offers:
        per.setdefault(offer.channel, []).append(offer)
    result = {}
    for channel, items in per.items():
        limit = thresholds[channel]
        answered = [o.wait for o in items if o.wait is not None]
        result[channel] = sl_from_counts(
            len(items),
            len(answered),
            sum(1 for o in items if answered_in_sl(o.wait, limit)),
            sum(answered),
        )
    return result


# --- AHT ------------------------------------------------------------------------------


def handle_seconds(
    started_at: datetime, ended_at: datetime | None, wrap_up_seconds: int | None
) -> int | None:
    """Talk/chat time plus after-contact work, whole seconds; None while not finished.
    A negative duration (clock skew) is bad data and refused."""
    if ended_at is None:
        return None
    talk = (ended_at - started_at).total_seconds()
    if talk < 0:
        raise ValueError("an interaction cannot end before it starts")
    return int(talk) + int(wrap_up_seconds or 0)


def aht(handle_times: Iterable[int | None]) -> Decimal | None:
    """Mean handle time in seconds (1 decimal) over the finished contacts."""
    values = [v for v in handle_times if v is not None]
    return mean(sum(values), len(values), 1)


# --- Answers in the personal cabinet --------------------------------------------------


def portal_on_time_share(sent: int, on_time: int) -> Decimal | None:
    """Share of answers in the ЛК delivered by their due time (24 h by default)."""
    return share(on_time, sent)


# --- Handoffs -------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffFacts:
    department: str
    created_at: datetime
    due_at: datetime | None
    answered_at: datetime | None


@dataclass(frozen=True)
class HandoffFigures:
    sent: int
    answered: int
    on_time: int
    late: int
    on_time_share: Decimal | None
    median_answer_hours: Decimal | None


def handoff_is_late(h: HandoffFacts, now: datetime) -> bool:
    """Late: answered after its due time, or still unanswered with the due time past."""
    if h.due_at is None:
        return False
    return (h.answered_at or now) > h.due_at


def handoff_figures(items: Sequence[HandoffFacts], now: datetime) -> dict[str, HandoffFigures]:
    """Per department: on-time share over the handoffs that are decided (answered, or
    overdue while unanswered); median time to answer over the answered ones, in hours."""
    per: dict[str, list[HandoffFacts]] = {}
    for h in items:
        per.setdefault(h.department, []).append(h)
    result = {}
    for dept, hs in sorted(per.items()):
        answered = [h for h in hs if h.answered_at is not None]
        late = [h for h in hs if handoff_is_late(h, now)]
        decided = len(answered) + sum(1 for h in late if h.answered_at is None)
        on_time = decided - len(late)
        durations = [(h.answered_at - h.created_at).total_seconds() / 3600 for h in answered]
        result[dept] = HandoffFigures(
            sent=len(hs),
            answered=len(answered),
            on_time=on_time,
            late=len(late),
            on_time_share=share(on_time, decided),
            median_answer_hours=round_half_up(median(durations), 1) if durations else None,
        )
    return result


# --- Backlog --------------------------------------------------------------------------


def age_bucket(created_at: datetime, now: datetime) -> str:
    """Which age bucket an open case falls in (a case from the future is bad data)."""
    age = now - created_at
    if age < timedelta(0):
        raise ValueError("a case cannot be created after now")
    for label, low, high in AGE_BUCKETS:
        if age >= low and (high is None or age < high):
            return label
    raise AssertionError("buckets cover every age")


def backlog(
    open_cases: Iterable[tuple[datetime, datetime | None]], now: datetime
) -> dict[str, int]:
    """Open cases per age bucket plus `overdue` (resolution due time passed)."""
    counts = {label: 0 for label, _low, _high in AGE_BUCKETS}
    counts["overdue"] = 0
    for created_at, due_at in open_cases:
        counts[age_bucket(created_at, now)] += 1
        if due_at is not None and due_at < now:
            counts["overdue"] += 1
    return counts
