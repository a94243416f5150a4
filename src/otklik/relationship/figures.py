"""Offers that fit a client (rules as data) and the manager's figures for the month.

The figures are computed here from this app's own data and the ratings/chats of the
manager's clients (CSI, SL), not from another analytics module: a manager is measured
on his book, whoever touched it.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from otklik.clients.models import Client, Product, ProductStatus
from otklik.relationship.health import month_start
from otklik.relationship.models import (
    HealthSummary,
    MetricValue,
    OfferOutcome,
    OfferRule,
    OfferStatus,
)

OPERATING_INCOME_METRIC = "operating_income"


def offers_for(*, client: Client, today: date | None = None) -> list[OfferRule]:
    """The active offers whose conditions the client meets and who lacks the product."""
    today = today or timezone.localdate()
    rules = list(OfferRule.objects.filter(active=True))
    if not rules:
        return []
    values: dict[str, Decimal] = {}
    rows = (
        MetricValue.objects.filter(client=client, period__lte=today)
        .order_by("period")
        .values_list("metric__code", "value")
    )
    for code, value in rows:
        values[code] = value  # the latest period wins
    names = [
        n.lower()
        for n in Product.objects.filter(client=client)
        .exclude(status=ProductStatus.CLOSED)
        .values_list("name", flat=True)
    ]
    fit = []
    for rule in rules:
        if rule.lacks_product and any(rule.lacks_product.lower() in n for n in names):
            continue
        if all(_holds(cond, values) for cond in rule.conditions or []):
            fit.append(rule)
    return fit


def _holds(cond: dict, values: dict[str, Decimal]) -> bool:
    value = values.get(str(cond.get("metric", "")))
    if value is None:
        return False
    try:
        threshold = Decimal(str(cond.get("value", 0)))
    except ArithmeticError:
        return False
    return value <= threshold if cond.get("op") == "lte" else value >= threshold


@dataclass
class Figures:
    clients: int
    transactor_share: float | None
    operating_income: Decimal
    offers_proposed: int
    offers_accepted: int
    csi: float | None
    service_level: float | None
    chats: int


def _month_bounds(today: date) -> tuple[datetime, datetime]:
    start = month_start(today)
    nxt = (start.replace(day=28) + timezone.timedelta(days=4)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(nxt, time.min), tz),
    )


def manager_figures(*, managers: list[int], today: date | None = None) -> Figures:
    """CSI, SL, share of transactors, operating income and offers, for this month."""
    from otklik.chat.models import Conversation
    from otklik.portal.models import CsiRating

    today = today or timezone.localdate()
    since, until = _month_bounds(today)
    book = Client.objects.filter(personal_manager_id__in=managers)
    clients = book.count()
    health = HealthSummary.objects.filter(client__personal_manager_id__in=managers).aggregate(
        n=Count("pk"), free=Count("pk", filter=Q(fee_free=True))
    )
    income = MetricValue.objects.filter(
        client__personal_manager_id__in=managers,
        metric__code=OPERATING_INCOME_METRIC,
        period__gte=month_start(today),
        period__lt=until.date(),
    ).aggregate(s=Sum("value"))["s"] or Decimal(0)
    offers = OfferOutcome.objects.filter(manager_id__in=managers, at__gte=since, at__lt=until)
    # An offer counts once per client and product, whatever was recorded about it.
    offers = {
        "proposed": offers.values("client", "rule").distinct().count(),
        "accepted": offers.filter(status=OfferStatus.ACCEPTED)
        .values("client", "rule")
        .distinct()
        .count(),
    }
    portal = CsiRating.objects.filter(
        client__personal_manager_id__in=managers, created_at__gte=since, created_at__lt=until
    ).aggregate(avg=Avg("score"), n=Count("pk"))
    chats = Conversation.objects.filter(
        client__personal_manager_id__in=managers, queued_at__gte=since, queued_at__lt=until
    )
    chat_csi = chats.filter(rating__isnull=False).aggregate(avg=Avg("rating__score"), n=Count("pk"))
    n_csi = (portal["n"] or 0) + (chat_csi["n"] or 0)
    csi = None
    if n_csi:
        csi = (
            (portal["avg"] or 0) * (portal["n"] or 0)
            + (chat_csi["avg"] or 0) * (chat_csi["n"] or 0)
        ) / n_csi
    target = settings.OTKLIK_CHAT_SL_SECONDS
    waits = [
        (r - q).total_seconds() if r else None
        for q, r in chats.values_list("queued_at", "first_operator_reply_at")
    ]
    in_target = sum(1 for w in waits if w is not None and w <= target)
    return Figures(
        clients=clients,
        transactor_share=health["free"] / health["n"] if health["n"] else None,
        operating_income=income,
        offers_proposed=offers["proposed"],
        offers_accepted=offers["accepted"],
        csi=csi,
        service_level=in_target / len(waits) if waits else None,
        chats=len(waits),
    )
