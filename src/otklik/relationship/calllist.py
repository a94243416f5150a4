"""The proactive call list: whom to call this morning, why, and in what order.

Each reason has a key that names what it is about and when (e.g. `fee:2026-12`,
`card:<product>`); a call logged as «поговорили» dismisses those keys, so the client
leaves the list until a new reason appears (next month's shortfall, another card). «Не
дозвонился» and «перезвонить» snooze the client to a date instead.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from otklik.clients.models import Client, Product, ProductKind, ProductStatus
from otklik.relationship.health import days_left_in_month
from otklik.relationship.models import (
    CallOutcome,
    CriterionKind,
    HealthResult,
    HealthSummary,
    ManagerTask,
    OnboardingStep,
    Outcome,
)

BIRTHDAY_AHEAD_DAYS = 3


@dataclass
class Reason:
    key: str
    kind: str
    weight: int
    text: str


@dataclass
class CallItem:
    client_id: int
    reasons: list[Reason] = field(default_factory=list)
    client: Client | None = None
    card_url: str = ""
    outcome_url: str = ""

    @property
    def rank(self) -> int:
        weights = sorted((r.weight for r in self.reasons), reverse=True)
        return weights[0] + 5 * (len(weights) - 1) if weights else 0

    @property
    def keys(self) -> list[str]:
        return [r.key for r in self.reasons]


def rub(amount: Decimal, separator: str | None = None) -> str:
    """Whole roubles grouped by thousands in the active language («12 400»)."""
    if separator is None:
        separator = get_format("THOUSAND_SEPARATOR")
    return f"{int(amount.quantize(Decimal(1))):,}".replace(",", separator)


def _fee_reasons(scope: dict, today: date) -> dict[int, list[Reason]]:
    left = days_left_in_month(today)
    month = today.strftime("%Y-%m")
    # Translated once: a book may have hundreds of clients short this month.
    template = _("%(amount)s ₽ more to keep the service free")
    days = ngettext("%(n)d day left in the month", "%(n)d days left in the month", left) % {
        "n": left
    }
    separator = get_format("THOUSAND_SEPARATOR")
    # The fewer days left, the more a call matters now.
    weight = 70 + min(25, 25 * 10 // max(left, 1))
    out: dict[int, list[Reason]] = {}
    rows = HealthSummary.objects.filter(**scope, fee_free=False, fee_shortfall__gt=0).values_list(
        "client_id", "fee_shortfall"
    )
    for client_id, shortfall in rows:
        text = template % {"amount": rub(shortfall, separator)} + " · " + days
        out.setdefault(client_id, []).append(Reason(f"fee:{month}", "fee", weight, text))
    return out


def _unused_reasons(scope: dict, today: date) -> dict[int, list[Reason]]:
    month = today.strftime("%Y-%m")
    out: dict[int, list[Reason]] = {}
    rows = HealthResult.objects.filter(
        **scope,
        met=False,
        criterion__kind=CriterionKind.PAID_UNUSED,
        criterion__active=True,
    ).values_list("client_id", "criterion_id", "criterion__name")
    template = _("pays for it but does not use: %(n)s")
    for client_id, criterion_id, name in rows:
        text = template % {"n": name}
        reason = Reason(f"unused:{criterion_id}:{month}", "unused", 45, text)
        out.setdefault(client_id, []).append(reason)
    return out


def _onboarding_reasons(scope: dict, today: date) -> dict[int, list[Reason]]:
    out: dict[int, list[Reason]] = {}
    rows = OnboardingStep.objects.filter(
        **scope, done_at__isnull=True, due_on__lt=today
    ).values_list("client_id", "pk", "title", "due_on")
    for client_id, pk, title, due in rows:
        text = _("onboarding overdue: %(t)s (due %(d)s)") % {"t": title, "d": due.strftime("%d.%m")}
        out.setdefault(client_id, []).append(Reason(f"onboarding:{pk}", "onboarding", 65, text))
    return out


def _birthday_reasons(scope: dict, today: date) -> dict[int, list[Reason]]:
    """Birthdays today or within BIRTHDAY_AHEAD_DAYS (birth dates read as plain values)."""
    soon = {}
    for ahead in range(BIRTHDAY_AHEAD_DAYS, -1, -1):
        day = today + timedelta(days=ahead)
        soon[(day.month, day.day)] = (ahead, day)
    client_scope = {
        k.removeprefix("client__").replace("client_id", "pk"): v for k, v in scope.items()
    }
    out: dict[int, list[Reason]] = {}
    rows = Client.objects.filter(**client_scope, birth_date__isnull=False).values_list(
        "pk", "birth_date"
    )
    for client_id, born in rows:
        hit = soon.get((born.month, born.day))
        if hit is None:
            continue
        ahead, day = hit
        text = (
            _("birthday today")
            if ahead == 0
            else _("birthday on %(d)s") % {"d": day.strftime("%d.%m")}
        )
        out[client_id] = [
            Reason(f"birthday:{day.year}", "birthday", 80 if ahead == 0 else 40, text)
        ]
    return out


def _card_reasons(scope: dict, today: date) -> dict[int, list[Reason]]:
    """Cards whose expiry («MM/YY») falls this month or next."""
    soon = {(today.month, today.year)}
    nxt = today.replace(day=28) + timedelta(days=4)
    soon.add((nxt.month, nxt.year))
    out: dict[int, list[Reason]] = {}
    rows = Product.objects.filter(
        **scope, kind=ProductKind.CARD, status=ProductStatus.ACTIVE
    ).values_list("client_id", "pk", "name", "details")
    for client_id, pk, name, details in rows:
        expires = str((details or {}).get("expires", ""))
        try:
            month, year = (int(p) for p in expires.split("/"))
        except ValueError:
            continue
        if (month, 2000 + year if year < 100 else year) in soon:
            text = _("card expires %(e)s: %(n)s") % {"e": expires, "n": name}
            out.setdefault(client_id, []).append(Reason(f"card:{pk}", "card", 50, text))
    return out


def _task_reasons(scope: dict, today: date) -> dict[int, list[Reason]]:
    out: dict[int, list[Reason]] = {}
    end = timezone.make_aware(
        timezone.datetime.combine(today + timedelta(days=1), timezone.datetime.min.time())
    )
    rows = ManagerTask.objects.filter(**scope, done_at__isnull=True, due_at__lt=end).values_list(
        "client_id", "pk", "title"
    )
    for client_id, pk, title in rows:
        out.setdefault(client_id, []).append(Reason(f"task:{pk}", "task", 90, title))
    return out


def _suppressed(scope: dict, today: date) -> tuple[set[int], dict[int, set[str]]]:
    """Clients snoozed past today, and the reason keys already dealt with per client."""
    snoozed: set[int] = set()
    dealt: dict[int, set[str]] = {}
    since = timezone.now() - timedelta(days=62)
    rows = CallOutcome.objects.filter(**scope, at__gte=since).values_list(
        "client_id", "outcome", "reason_keys", "snoozed_until"
    )
    for client_id, outcome, keys, until in rows:
        if until and until > today:
            snoozed.add(client_id)
        if outcome == Outcome.TALKED:
            dealt.setdefault(client_id, set()).update(keys or [])
    return snoozed, dealt


def call_list(
    *, managers: list[int], today: date | None = None, limit: int = 100
) -> list[CallItem]:
    """The ranked call list for the given books (the manager's own and covered ones)."""
    today = today or timezone.localdate()
    scope = {"client__personal_manager_id__in": managers}
    ranked = sorted(_collect(scope, today, drop_snoozed=True), key=lambda i: -i.rank)[:limit]
    clients = Client.objects.filter(pk__in=[i.client_id for i in ranked]).select_related(
        "personal_manager"
    )
    by_id = {c.pk: c for c in clients}
    for item in ranked:
        item.client = by_id[item.client_id]
    ranked.sort(key=lambda i: (-i.rank, i.client.last_name, i.client_id))
    return ranked


def call_reasons_for(*, client: Client, today: date | None = None) -> list[Reason]:
    """The current (not yet dealt with) reasons to call one client."""
    items = _collect({"client_id": client.pk}, today or timezone.localdate(), drop_snoozed=False)
    return items[0].reasons if items else []


def _collect(scope: dict, today: date, *, drop_snoozed: bool) -> list[CallItem]:
    sources = (
        _fee_reasons,
        _unused_reasons,
        _onboarding_reasons,
        _card_reasons,
        _task_reasons,
        _birthday_reasons,
    )
    found = [source(scope, today) for source in sources]
    snoozed, dealt = _suppressed(scope, today)
    items: dict[int, CallItem] = {}
    for reasons in found:
        for client_id, rs in reasons.items():
            if drop_snoozed and client_id in snoozed:
                continue
            fresh = [r for r in rs if r.key not in dealt.get(client_id, ())]
            if fresh:
                items.setdefault(client_id, CallItem(client_id)).reasons.extend(fresh)
    for item in items.values():
        item.reasons.sort(key=lambda r: -r.weight)
    return list(items.values())
