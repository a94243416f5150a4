"""Redaction of identifiers in free text: recognised numbers always go, ordinary ones stay."""

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.ru import inn

from otklik.common.masking import mask_digits, mask_pan, mask_tail
from otklik.common.redaction import find_identifiers, redact, snils_valid

DIGIT = "0123456789"
WORDS = st.sampled_from(
    ["Клиент продиктовал", "карта", "номер:", "проверьте", "—", "(", "см.", "Карта клиента"]
)


def _pan(body: str) -> str:
    return body + luhn.calc_check_digit(body)


@st.composite
def pans(draw) -> tuple[str, str]:
    """A valid card number of 13–19 digits, written together or in groups of four."""
    length = draw(st.integers(min_value=13, max_value=19))
    body = draw(st.text(DIGIT, min_size=length - 1, max_size=length - 1))
    pan = _pan(body)
    separator = draw(st.sampled_from(["", " ", "-"]))
    written = separator.join(pan[i : i + 4] for i in range(0, len(pan), 4)) if separator else pan
    return pan, written


@st.composite
def inns12(draw) -> str:
    body = draw(st.text(DIGIT, min_size=10, max_size=10))
    first = inn.calc_personal_check_digits(body)
    return body + first


@st.composite
def snilses(draw) -> str:
    """A СНИЛС above 001-001-998 (lower numbers were issued without check digits)."""
    body = f"{draw(st.integers(min_value=1001999, max_value=999999999)):09d}"
    for check in range(100):
        number = f"{body}{check:02d}"
        if snils_valid(number):
            return f"{body[:3]}-{body[3:6]}-{body[6:]} {number[9:]}"
    raise AssertionError(body)


def _context(draw, middle: str) -> str:
    return f"{draw(WORDS)} {middle} {draw(WORDS)}"


@settings(max_examples=200)
@given(pan=pans(), data=st.data())
def test_valid_card_numbers_are_always_redacted_keeping_last_four(pan, data):
    digits, written = pan
    text = _context(data.draw, written)
    out = redact(text)
    assert written not in out and digits not in out.replace(" ", "").replace("-", "")
    assert f"•••• {digits[-4:]}" in out


@settings(max_examples=200)
@given(number=inns12(), data=st.data())
def test_personal_inn_is_always_redacted(number, data):
    out = redact(_context(data.draw, number))
    assert number not in out and f"•••• {number[-4:]}" in out


@given(body=st.text(DIGIT, min_size=9, max_size=9))
def test_ten_digit_inn_is_redacted_after_the_word(body):
    number = body + inn.calc_company_check_digit(body)
    assert number not in redact(f"ИНН {number}")
    assert redact(f"ИНН: {number} ООО «Ромашка»") == f"ИНН: •••• {number[-4:]} ООО «Ромашка»"


@settings(max_examples=200)
@given(number=snilses(), data=st.data())
def test_snils_is_always_redacted(number, data):
    out = redact(_context(data.draw, number))
    bare_digits = number.replace("-", "").replace(" ", "")
    assert number not in out and f"•••• {bare_digits[-4:]}" in out
    bare = number.replace("-", "").replace(" ", "")
    assert bare not in redact(f"СНИЛС {bare}")


@given(
    series=st.integers(min_value=0, max_value=9999),
    number=st.integers(min_value=0, max_value=999999),
    lead=st.sampled_from(["паспорт", "Паспорт РФ", "паспорта", "паспорт серии", "серия"]),
    gap=st.sampled_from([" ", " № ", " номер "]),
)
def test_passport_after_the_word_is_redacted(series, number, lead, gap):
    s, n = f"{series:04d}", f"{number:06d}"
    for written in (f"{s[:2]} {s[2:]}{gap}{n}", f"{s}{gap}{n}"):
        out = redact(f"{lead} {written} выдан ОВД")
        assert n not in out and f"•••• {n[-4:]}" in out


def _amount(value: int, kopecks: int, style: int) -> str:
    grouped = f"{value:,}".replace(",", " ")
    styles = [f"{grouped},{kopecks:02d} ₽", f"{value} руб.", f"{grouped} ₽"]
    styles.append(f"{value}.{kopecks:02d}")
    return styles[style]


def _phone(digits: str, style: int) -> str:
    a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
    return [
        f"+7 {a} {b}-{c}-{d}",
        f"8 ({a}) {b}-{c}-{d}",
        f"8{digits}",
        f"+7{digits}",
        f"8 {a} {b} {c} {d}",
        f"+7 ({a}) {b}{c}{d}",
    ][style]


@settings(max_examples=300)
@given(
    value=st.integers(min_value=0, max_value=10**10),
    kopecks=st.integers(min_value=0, max_value=99),
    amount_style=st.integers(min_value=0, max_value=3),
    phone=st.text(DIGIT, min_size=10, max_size=10),
    phone_style=st.integers(min_value=0, max_value=5),
    day=st.dates(),
    contract=st.integers(min_value=0, max_value=10**7 - 1),
)
def test_amounts_phones_dates_and_contracts_are_never_touched(
    value, kopecks, amount_style, phone, phone_style, day, contract
):
    text = (
        f"Сумма {_amount(value, kopecks, amount_style)}, перезвонить на "
        f"{_phone(phone, phone_style)} до {day:%d.%m.%Y} ({day.isoformat()}), "
        f"договор З-2024-{contract:07d}, счёт 40817810938000447182."
    )
    assert redact(text) == text
    assert find_identifiers(text) == []


def test_examples_read_as_an_operator_expects():
    assert redact("Карта 4561 2612 1234 5467 заблокирована") == "Карта •••• 5467 заблокирована"
    typed = "паспорт 45 01 123456, СНИЛС 112-233-445 95"
    assert redact(typed) == "паспорт •••• 3456, СНИЛС •••• 4595"
    assert redact("Не карта: 4561 2612 1234 5464") == "Не карта: 4561 2612 1234 5464"
    assert redact("") == "" and redact("•••• 5467") == "•••• 5467"


def test_masking_functions():
    assert mask_pan("2200700000000007") == "2200 70•• •••• 0007"
    assert mask_tail("40817810938000447182") == "•••• 7182"
    assert mask_digits("карта 2200 7000 0000 0007 и Иванов") == "карта •••• 0007 и Иванов"
    assert mask_digits("Иванова") == "Иванова"
