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


# --- full redaction for sharing (the story library) -----------------------------------
#
# `redact` above keeps what an operator needs at work (the last four digits). A copy made
# to be shared for training keeps nothing: every identifier, phone, e-mail, address and
# (when asked) amount becomes a bracketed placeholder, and so do the client's names.
# Here a miss is worse than an excess, so after the checksum-validated kinds every other
# run of six or more digits is hidden too (an unvalidated card, a passport written without
# the word, a postcode, an account number).

PLACEHOLDERS = {
    "card": "[карта]",
    "inn": "[ИНН]",
    "snils": "[СНИЛС]",
    "passport": "[паспорт]",
    "phone": "[телефон]",
    "email": "[e-mail]",
    "address": "[адрес]",
    "amount": "[сумма]",
    "name": "[имя]",
    "number": "[номер]",
}

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
_PHONE = re.compile(
    r"(?<![\d\w\-])(?:\+\s?7|8|7)?[\s\-]?\(?\d{3,4}\)?[\s\-]?\d{2,3}[\s\-]?\d{2}[\s\-]?\d{2}(?!\d)"
)
# What is left of an earlier `redact`: «•••• 1234».
_MASKED = re.compile(r"•+\s?\d{0,4}")
_CURRENCY = (
    r"(?:₽|руб\w*|р\.|тыс\.?\s?(?:руб\w*|₽)?|млн\.?\s?(?:руб\w*|₽)?|\$|USD|EUR|€|евро|долл\w*)"
)
_AMOUNT = re.compile(
    r"(?<![\d\w])\d{1,3}(?:[ \u00a0]?\d{3})*(?:[.,]\d{1,2})?\s?" + _CURRENCY, re.IGNORECASE
)
_LONG_NUMBER = re.compile(r"(?<![\d])\d(?:[\d \-()/]*\d)?(?![\d])")
_ADDRESS_KEY = (
    r"(?<![\w.])(?:г\.|гор\.|город[аеу]?|ул\.|улиц[аеуыи]|пр-т|просп\.|проспект[аеу]?|пер\."
    r"|переул(?:ок|ке|ка)|шоссе|б-р|бульвар[аеу]?|наб\.|набережн(?:ая|ой|ую)|пл\.|площад[ьи]"
    r"|мкр\.?|микрорайон[аеу]?|д\.|дом[аеу]?|кв\.|квартир[аеуы]|корп\.|корпус[аеу]?|стр\."
    r"|строени[еия]|обл\.|област[ьи]|пос\.|посёлок|поселок|село|дер\.|деревн[яи])"
)
_ADDRESS_PART = _ADDRESS_KEY + r"\s*[«\"]?[А-ЯЁA-Z0-9](?:[\w\-/»\"]|\.(?=\w))*(?:\s+[А-ЯЁ][\w\-]*)*"
_ADDRESS = re.compile(_ADDRESS_PART + r"(?:[,\s]+" + _ADDRESS_PART + r")*")
# «по адресу Москва, Тверская 5», «адрес: ...», «проживает: ...»: the rest of the clause.
_ADDRESS_SAID = re.compile(
    r"(?i:по\s+адресу|адрес(?:у|ом)?[ \t]*:|проживает(?:\s+по\s+адресу)?[ \t]*:?"
    r"|прописан\w*(?:\s+по\s+адресу)?[ \t]*:?|зарегистрирован\w*\s+по\s+адресу[ \t]*:?)"
    r"[ \t]*([«\"]?[А-ЯЁA-Z0-9][^.\n;]{2,80})"
)


def _name_pattern(names: tuple[str, ...]) -> re.Pattern | None:
    """Each name matched in any case form: its stem plus up to three letters of ending."""
    stems = []
    for name in names:
        for part in re.findall(r"[А-ЯЁа-яёA-Za-z\-]+", name or ""):
            if len(part) < 3:
                continue
            stems.append(re.escape(part[:-1] if len(part) > 4 else part))
    if not stems:
        return None
    return re.compile(
        r"(?<![\w])(?:" + "|".join(sorted(set(stems), key=len, reverse=True)) + r")\w{0,3}(?![\w])",
        re.IGNORECASE,
    )


def find_personal_data(
    text: str, *, names: tuple[str, ...] = (), amounts: bool = False
) -> list[Found]:
    """Everything `anonymise` hides, in order, none overlapping: identifiers first (checked),
    then e-mails, phones, addresses, known names, amounts, any other long number."""
    if not text:
        return []
    found: list[Found] = list(find_identifiers(text))
    protected: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int) -> None:
        found.append(Found(kind, start, end))

    for match in _MASKED.finditer(text):
        add("number", match.start(), match.end())
    for match in _EMAIL.finditer(text):
        add("email", match.start(), match.end())
    for match in _ADDRESS_SAID.finditer(text):
        add("address", match.start(1), match.end(1))
    for match in _ADDRESS.finditer(text):
        add("address", match.start(), match.end())
    for match in _PHONE.finditer(text):
        if 10 <= len(digits_only(match.group(0))) <= 11:
            add("phone", match.start(), match.end())
    pattern = _name_pattern(names)
    if pattern is not None:
        for match in pattern.finditer(text):
            add("name", match.start(), match.end())
    for match in _AMOUNT.finditer(text):
        if amounts:
            add("amount", match.start(), match.end())
        else:
            protected.append((match.start(), match.end()))
    for match in _LONG_NUMBER.finditer(text):
        if len(digits_only(match.group(0))) < 6:
            continue
        if any(s <= match.start() and match.end() <= e for s, e in protected):
            continue
        add("number", match.start(), match.end())
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Found] = []
    for item in found:
        if kept and item.start < kept[-1].end:
            if item.end > kept[-1].end:  # overlapping: widen the hidden span
                last = kept.pop()
                kept.append(Found(last.kind, last.start, item.end))
            continue
        kept.append(item)
    return kept


def anonymise(
    text: str, *, names: tuple[str, ...] = (), amounts: bool = False
) -> tuple[str, dict[str, int]]:
    """`text` with all personal data replaced by placeholders, and how many of each kind."""
    if not text:
        return text, {}
    parts: list[str] = []
    counts: dict[str, int] = {}
    position = 0
    for item in find_personal_data(text, names=names, amounts=amounts):
        parts.append(text[position : item.start])
        parts.append(PLACEHOLDERS[item.kind])
        counts[item.kind] = counts.get(item.kind, 0) + 1
        position = item.end
    parts.append(text[position:])
    return "".join(parts), counts
