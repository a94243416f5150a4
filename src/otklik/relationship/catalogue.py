"""The default rules of the desk (story 003): metrics, package levels, criteria, offers.

`desk_rules_ensure()` is idempotent and never overwrites what an administrator changed:
rows are matched by code and only created when missing.
"""

from decimal import Decimal

from django.db import transaction

from otklik.relationship.models import (
    Comparison,
    CriterionKind,
    HealthCriterion,
    Metric,
    MetricUnit,
    OfferRule,
    OnboardingTemplateStep,
    PackageLevel,
)

METRICS = (
    ("card_spend", "Покупки по картам за месяц", MetricUnit.RUB),
    ("balance", "Остаток на счетах", MetricUnit.RUB),
    ("salary_credited", "Зачислена зарплата", MetricUnit.FLAG),
    ("uses_app", "Пользуется мобильным приложением", MetricUnit.FLAG),
    ("auto_fx_used", "Автообмен сработал в этом месяце", MetricUnit.FLAG),
    ("operating_income", "Операционный доход", MetricUnit.RUB),
    ("has_credit_card", "Есть кредитная карта", MetricUnit.FLAG),
    ("concierge_used", "Пользовался консьерж-сервисом за месяц", MetricUnit.FLAG),
)

LEVELS = (
    ("platinum", "Пакет решений Platinum", Decimal("1990")),
    ("black", "Пакет решений Black", Decimal("4990")),
)

# (level, name, kind, metric, comparison, threshold, monthly, weight)
CRITERIA = (
    ("platinum", "Покупки по картам от 100 000 ₽ в месяц", CriterionKind.FEE_WAIVER,
     "card_spend", Comparison.GTE, Decimal("100000"), True, 3),
    ("platinum", "Остаток от 1 500 000 ₽", CriterionKind.FEE_WAIVER,
     "balance", Comparison.GTE, Decimal("1500000"), False, 3),
    ("platinum", "Зарплата зачисляется в банк", CriterionKind.USAGE,
     "salary_credited", Comparison.GTE, Decimal("1"), True, 1),
    ("platinum", "Пользуется мобильным приложением", CriterionKind.USAGE,
     "uses_app", Comparison.GTE, Decimal("1"), True, 1),
    ("black", "Покупки по картам от 200 000 ₽ в месяц", CriterionKind.FEE_WAIVER,
     "card_spend", Comparison.GTE, Decimal("200000"), True, 3),
    ("black", "Остаток от 3 000 000 ₽", CriterionKind.FEE_WAIVER,
     "balance", Comparison.GTE, Decimal("3000000"), False, 3),
    ("black", "Пользуется мобильным приложением", CriterionKind.USAGE,
     "uses_app", Comparison.GTE, Decimal("1"), True, 1),
    ("black", "Консьерж-сервис (входит в оплаченный пакет)", CriterionKind.PAID_UNUSED,
     "concierge_used", Comparison.GTE, Decimal("1"), True, 1),
)  # fmt: skip

OFFERS = (
    (
        "credit_card",
        "Кредитная карта с льготным периодом",
        "Зарплата приходит к нам, а кредитной карты нет: льготный период и кешбэк.",
        [{"metric": "salary_credited", "op": "gte", "value": 1}],
        "Кредитная карта",
    ),
    (
        "deposit",
        "Накопительный счёт",
        "Большой остаток на текущем счёте: проценты на остаток.",
        [{"metric": "balance", "op": "gte", "value": 1000000}],
        "Накопительный счёт",
    ),
)


#: The default onboarding checklist (story 003): code, step, days after assignment. The
#: same four steps are what migration 0003 gives a new installation.
ONBOARDING = (
    ("intro_call", "Знакомственный звонок", 2),
    ("channels", "Рассказал о каналах (прямая линия, чат)", 3),
    ("app", "Настроено мобильное приложение", 7),
    ("preferences", "Записаны предпочтения (обращение, каналы, темы)", 7),
)


def onboarding_template_ensure() -> None:
    """Create the default checklist steps that are missing (matched by code)."""
    for position, (code, title, days) in enumerate(ONBOARDING, start=1):
        OnboardingTemplateStep.objects.get_or_create(
            code=code, defaults={"title": title, "due_days": days, "position": position * 10}
        )


@transaction.atomic
def desk_rules_ensure() -> dict[str, PackageLevel]:
    """Create the default metrics, levels, criteria, offers and checklist that are missing."""
    onboarding_template_ensure()
    metrics = {}
    for code, name, unit in METRICS:
        metrics[code], _ = Metric.objects.get_or_create(
            code=code, defaults={"name": name, "unit": unit}
        )
    levels = {}
    for code, name, fee in LEVELS:
        levels[code], _created = PackageLevel.objects.get_or_create(
            code=code, defaults={"name": name, "monthly_fee": fee}
        )
    for level, name, kind, metric, comparison, threshold, monthly, weight in CRITERIA:
        HealthCriterion.objects.get_or_create(
            package_level=levels[level],
            name=name,
            defaults={
                "kind": kind,
                "metric": metrics[metric],
                "comparison": comparison,
                "threshold": threshold,
                "monthly": monthly,
                "weight": weight,
            },
        )
    for code, title, pitch, conditions, lacks in OFFERS:
        OfferRule.objects.get_or_create(
            code=code,
            defaults={
                "title": title,
                "pitch": pitch,
                "conditions": conditions,
                "lacks_product": lacks,
            },
        )
    return levels
