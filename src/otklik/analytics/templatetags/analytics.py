"""Template helpers for the analytics pages: number formatting and drill-down links."""

from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def num(value):
    """Decimals as the locale writes them (1 decimal at most), None as itself."""
    if value is None:
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return number_format(int(value), use_l10n=True)
    if isinstance(value, Decimal):
        return number_format(value, decimal_pos=1 if abs(value) >= 10 else 2, use_l10n=True)
    return number_format(value, use_l10n=True)


@register.filter
def until_day(value: datetime) -> datetime:
    """The last day inside a half-open period [since, until)."""
    return value - timedelta(seconds=1)
