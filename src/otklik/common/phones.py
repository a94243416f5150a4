"""Russian phone number normalisation: every way people type a number → 10 national digits."""

import re

_NON_DIGITS = re.compile(r"\D+")


def phone_digits(raw: str) -> str:
    """Return the national 10-digit form of a Russian number, or the bare digits otherwise.

    "+7 (916) 123-45-67", "8 916 1234567" and "9161234567" all become "9161234567".
    """
    digits = _NON_DIGITS.sub("", raw or "")
    if len(digits) == 11 and digits[0] in "78":
        return digits[1:]
    return digits


def format_phone(raw: str) -> str:
    digits = phone_digits(raw)
    if len(digits) != 10:
        return raw
    return f"+7 {digits[:3]} {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
