"""How personal identifiers are shown by default: one module for every interface.

Templates, API schemas, exports, audit details and logs all mask through these functions,
so a card or account number looks the same everywhere and nowhere appears in full unless
a member of staff with the right asked for it with a reason (see
`clients.services.client_identifiers_reveal`).
"""

import re

#: The character that stands for a hidden digit.
DOT = "•"

_DIGIT_RUN = re.compile(r"\d(?:[\d \-()]*\d)?")


def digits_only(value: str) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def mask_tail(value: str, *, keep: int = 4) -> str:
    """Hide all but the last `keep` digits: «•••• 1234». Empty stays empty."""
    digits = digits_only(value)
    if not digits:
        return ""
    if len(digits) <= keep:
        return DOT * 4
    return f"{DOT * 4} {digits[-keep:]}"


def mask_pan(pan: str) -> str:
    """A card number as PCI DSS allows it to be displayed: first six and last four digits."""
    pan = digits_only(pan)
    if len(pan) < 12:
        return DOT * 4 if pan else ""
    return f"{pan[:4]} {pan[4:6]}{DOT * 2} {DOT * 4} {pan[-4:]}"


def mask_account_number(number: str) -> str:
    """Bank account and card numbers (12+ digits) keep their last four digits.

    Contract references such as «ИИС-2019/044718» or «З-2024-0158843» are how the client
    and the operator name a contract on the phone, not secrets: they stay as they are.
    """
    number = str(number or "")
    compact = number.replace(" ", "")
    if compact.isdigit() and len(compact) >= 12:
        return mask_tail(compact)
    return number


def mask_product_details(kind: str, details: dict | None) -> dict:
    """A copy of a product's typed details with the identifiers masked."""
    masked = dict(details or {})
    if kind == "card" and masked.get("pan"):
        masked["pan"] = mask_pan(masked["pan"])
    return masked


def mask_digits(text: str, *, min_digits: int = 5, keep: int = 4) -> str:
    """Hide every run of `min_digits` or more digits (spaces, dashes, brackets allowed inside).

    For what a person typed into a search box, before it is written to an audit record or a
    log: a query has no context to tell a card from a phone, so every long number is hidden.
    """

    def hide(match: re.Match) -> str:
        run = match.group(0)
        return mask_tail(run, keep=keep) if len(digits_only(run)) >= min_digits else run

    return _DIGIT_RUN.sub(hide, str(text or ""))


def looks_like_identifier(query: str) -> bool:
    """True if a search query holds a long number (card, account, passport, phone)."""
    return mask_digits(query) != str(query or "")
