"""Template filters that show identifiers masked (see otklik.common.masking)."""

from django import template

from otklik.common.masking import mask_account_number, mask_pan

register = template.Library()


@register.filter
def masked_pan(pan: str) -> str:
    """A card number as staff may see it by default: first six and last four digits."""
    return mask_pan(str(pan or ""))


@register.filter
def masked_number(number: str) -> str:
    """An account or card number with only its last four digits; contract references as is."""
    return mask_account_number(str(number or ""))
