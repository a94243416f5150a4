"""Redaction of personal identifiers in free text, at the moment it is stored.

Staff and clients type card, passport, СНИЛС and ИНН numbers into notes, replies and
chats. What is never stored cannot leak from the database, a backup, a screen or a log,
so every service that stores free text passes it through `redact` first.

A number is replaced only when it is recognised for sure: a card number must pass the
Luhn check (python-stdnum), an ИНН and a СНИЛС their check digits, a passport series and
number must follow the word «паспорт» or «серия». Amounts, phone numbers, dates and
contract numbers stay as typed. The last four digits stay visible («•••• 1234»), which is
what the operator needs to tell two cards apart.
"""

import re
from dataclasses import dataclass

from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn

from otklik.common.masking import digits_only, mask_tail

_NOT_DIGIT_BEFORE = r"(?<![\d])"
_NOT_DIGIT_AFTER = r"(?![\d])"

# 13–19 digits written together, in groups of four (the last group shorter), or 4-6-5.
_CARD = re.compile(
    _NOT_DIGIT_BEFORE
    + r"(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2}[ -]\d{1,4}(?:[ -]\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5})"
    + _NOT_DIGIT_AFTER
)
# A personal ИНН has 12 digits and two check digits: safe to recognise on its own.
_INN12 = re.compile(_NOT_DIGIT_BEFORE + r"\d{12}" + _NOT_DIGIT_AFTER)
# A ten-digit ИНН looks like a phone number without its prefix: only after the word.
_INN_NAMED = re.compile(r"\bИНН\W{0,20}?(?<!\d)(\d{12}|\d{10})(?!\d)", re.IGNORECASE)
# СНИЛС is written «123-456-789 01»; eleven bare digits look like a phone: only after the word.
_SNILS_FORMATTED = re.compile(_NOT_DIGIT_BEFORE + r"\d{3}-\d{3}-\d{3}[ -]\d{2}" + _NOT_DIGIT_AFTER)
_SNILS_NAMED = re.compile(
    r"\bСНИЛС\W{0,20}?(?<!\d)(\d{3}[ -]?\d{3}[ -]?\d{3}[ -]?\d{2})(?!\d)", re.IGNORECASE
)
# «паспорт 45 01 123456», «паспорт серии 4501 № 123456», «серия 45 01 номер 123456».
_PASSPORT = re.compile(
    r"(?:паспорт\w*|серия|серии)[^\d]{0,30}?"
    r"(?<!\d)(\d{2}[ ]?\d{2}[ ]?(?:№|N|номер)?[ ]?\d{6})(?!\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    """One recognised identifier: its kind and where it is in the text."""

    kind: str  # card | inn | snils | passport
    start: int
    end: int


def snils_valid(number: str) -> bool:
    """The СНИЛС check digits (Pension Fund rule; python-stdnum does not know СНИЛС)."""
    digits = digits_only(number)
    if len(digits) != 11:
        return False
    body, check = digits[:9], int(digits[9:])
    total = sum(int(d) * (9 - i) for i, d in enumerate(body))
    if total < 100:
        expected = total
    elif total in (100, 101):
        expected = 0
    else:
        expected = total % 101
        if expected == 100:
            expected = 0
    return check == expected


def _card_valid(text: str) -> bool:
    digits = digits_only(text)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _inn_valid(text: str) -> bool:
    try:
        inn.validate(digits_only(text))
    except StdnumError:
        return False
    return True


def find_identifiers(text: str) -> list[Found]:
    """Every recognised identifier in `text`, in order, none overlapping another."""
    if not text:
        return []
    found: list[Found] = []
    for match in _CARD.finditer(text):
        if _card_valid(match.group(0)):
            found.append(Found("card", match.start(), match.end()))
    for match in _INN12.finditer(text):
        if _inn_valid(match.group(0)):
            found.append(Found("inn", match.start(), match.end()))
    for match in _INN_NAMED.finditer(text):
        if _inn_valid(match.group(1)):
            found.append(Found("inn", match.start(1), match.end(1)))
    for match in _SNILS_FORMATTED.finditer(text):
        if snils_valid(match.group(0)):
            found.append(Found("snils", match.start(), match.end()))
    for match in _SNILS_NAMED.finditer(text):
        if snils_valid(match.group(1)):
            found.append(Found("snils", match.start(1), match.end(1)))
    for match in _PASSPORT.finditer(text):
        if len(digits_only(match.group(1))) == 10:
            found.append(Found("passport", match.start(1), match.end(1)))
    found.sort(key=lambda f: (f.start, -f.end))
    kept: list[Found] = []
    for item in found:
        if kept and item.start < kept[-1].end:
            continue
        kept.append(item)
    return kept


def redact(text: str) -> str:
    """`text` with each recognised identifier replaced by «•••• » and its last four digits."""
    if not text:
        return text
    found = find_identifiers(text)
    if not found:
        return text
    parts: list[str] = []
    position = 0
    for item in found:
        parts.append(text[position : item.start])
        parts.append(mask_tail(text[item.start : item.end]))
        position = item.end
    parts.append(text[position:])
    return "".join(parts)
