"""Typed details of each product kind.

`Product.details` is JSON so one table holds every kind; these schemas keep it honest:
every write goes through `validate_details`, which rejects unknown or malformed fields.
"""

from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from otklik.common.luhn import luhn_valid
from otklik.common.phones import phone_digits

Money = Annotated[Decimal, Field(max_digits=18, decimal_places=2)]


class _Details(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BrokerageDetails(_Details):
    tariff: str = ""


class IisDetails(_Details):
    iis_type: Literal[1, 2, 3]
    deduction_type: Literal["A", "B", ""] = ""
    tax_deduction_lost: bool = False


class FundUnitsDetails(_Details):
    fund_type: Literal["opif", "zpif", "bpif"]
    units: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)]
    frozen: bool = False
    value_rub: Money | None = None


class LoanDetails(_Details):
    principal: Money
    outstanding: Money
    rate_percent: Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=2)] | None = None
    court_status: Literal["none", "pretrial", "claim_filed", "judgment", "enforcement"] = "none"
    court_case_number: str = ""
    court_name: str = ""


class CardDetails(_Details):
    pan: str
    payment_system: str
    level: str
    package: str = ""
    expires: str = Field(pattern=r"^(0[1-9]|1[0-2])/\d{2}$")
    package_free_criteria: str = ""

    @field_validator("pan")
    @classmethod
    def _luhn(cls, value: str) -> str:
        digits = value.replace(" ", "")
        if not luhn_valid(digits):
            raise ValueError("card number fails the Luhn check")
        return digits


class BankAccountDetails(_Details):
    currency: Literal["RUB", "USD", "EUR", "CNY"] = "RUB"
    balance: Money = Decimal("0")


class BankServiceDetails(_Details):
    service_code: str
    parameters: dict[str, str] = {}


class TelecomTariffDetails(_Details):
    msisdn: str
    balance: Money
    reserved: Money = Decimal("0")
    monthly_fee: Money = Decimal("0")
    internet_billing: str = ""

    @field_validator("msisdn")
    @classmethod
    def _msisdn(cls, value: str) -> str:
        digits = phone_digits(value)
        if len(digits) != 10:
            raise ValueError("msisdn must be a Russian 10-digit number")
        return digits


class TelecomServiceDetails(_Details):
    fee: Money = Decimal("0")
    billing: str = ""
    reserves_balance: bool = False


DETAIL_SCHEMAS: dict[str, type[_Details]] = {
    "brokerage": BrokerageDetails,
    "iis": IisDetails,
    "fund_units": FundUnitsDetails,
    "loan": LoanDetails,
    "card": CardDetails,
    "bank_account": BankAccountDetails,
    "bank_service": BankServiceDetails,
    "telecom_tariff": TelecomTariffDetails,
    "telecom_service": TelecomServiceDetails,
}

FUND_TYPE_LABELS = {"opif": "ОПИФ", "zpif": "ЗПИФ", "bpif": "БПИФ"}

# Who provides a product, named as the client knows them in each business line: a bank,
# a lender (bank or МФК), a broker, a fund's management company, a mobile operator.
PROVIDER_LABELS = {
    "brokerage": _("Broker"),
    "iis": _("Broker"),
    "fund_units": _("Management company"),
    "loan": _("Lender"),
    "card": _("Bank"),
    "bank_account": _("Bank"),
    "bank_service": _("Bank"),
    "telecom_tariff": _("Mobile operator"),
    "telecom_service": _("Mobile operator"),
}

# Bank services and their parameters, in words; an unknown code is shown humanised.
SERVICE_LABELS = {
    "auto_fx": _("Automatic currency exchange"),
}
SERVICE_PARAMETER_LABELS = {
    "currency_pair": _("Currency pair"),
    "schedule": _("Schedule"),
    "trigger": _("Triggered by"),
    "share": _("Amount exchanged"),
    "check": _("Condition"),
    "rate": _("Rate of the last credit"),
}


def _humanise(code: str) -> str:
    return code.replace("_", " ").strip().capitalize()


def provider_label(kind: str) -> str:
    return str(PROVIDER_LABELS.get(kind, _("Provider")))


def service_label(code: str) -> str:
    return str(SERVICE_LABELS[code]) if code in SERVICE_LABELS else _humanise(code)


def service_parameter_label(key: str) -> str:
    label = SERVICE_PARAMETER_LABELS.get(key)
    return str(label) if label is not None else _humanise(key)


def validate_details(kind: str, details: dict | None) -> dict:
    """Validate `details` for a product `kind`; return the normalised JSON-ready dict.

    Raises django ValidationError naming each offending field as `details.<field>`.
    """
    schema = DETAIL_SCHEMAS.get(kind)
    if schema is None:
        raise ValidationError({"kind": f"unknown product kind {kind!r}"})
    try:
        parsed = schema.model_validate(details or {})
    except PydanticValidationError as exc:
        errors = {}
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "details"
            errors[f"details.{field}"] = err["msg"]
        raise ValidationError(errors) from exc
    return parsed.model_dump(mode="json")
