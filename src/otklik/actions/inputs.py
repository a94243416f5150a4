"""Typed input forms of the actions, declared in code and chosen by `ActionType.input_kind`.

Each input is a pydantic model (validation) plus the fields the workspace form shows, in
order. `validate_input` returns the clean JSON-ready dict or raises `ServiceError` with
one message per field, so the form shows each error next to its field.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic import ValidationError as PydanticValidationError

from otklik.common.errors import ServiceError

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Rate = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)]

CURRENCY_PAIRS = ("RUB→USD", "RUB→EUR", "RUB→CNY", "USD→RUB", "EUR→RUB", "CNY→RUB")


class ActionInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LiftRestriction(ActionInput):
    restriction_id: int
    comment: Text = ""


class ReissueCard(ActionInput):
    reason: Required
    delivery: Literal["office", "courier"] = "office"
    address: Text = ""

    @model_validator(mode="after")
    def _address_for_courier(self):
        if self.delivery == "courier" and len(self.address) < 10:
            raise ValueError("address: a courier needs the full delivery address")
        return self


class RefundCharge(ActionInput):
    amount: Amount
    reason: Required


class DisableService(ActionInput):
    service_product_id: int
    comment: Text = ""


class ChangeTariff(ActionInput):
    tariff_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)
    ]
    comment: Text = ""


class StartAutoExchange(ActionInput):
    currency_pair: Literal[CURRENCY_PAIRS]  # type: ignore[valid-type]
    rate: Rate
    comment: Text = ""


class CorrectDeliveryAddress(ActionInput):
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=500)]
    comment: Text = ""


@dataclass(frozen=True)
class FormField:
    name: str
    label: str | Promise
    widget: str = "text"  # text, textarea, number, select, hidden, tariff
    choices: tuple[tuple[str, str | Promise], ...] = ()
    help: str | Promise = ""


@dataclass(frozen=True)
class InputSpec:
    model: type[ActionInput]
    fields: tuple[FormField, ...]
    # The input field whose value feeds the policy's `amount` fact, if any.
    amount_field: str = ""


COMMENT = FormField("comment", gettext_lazy("Comment"), "textarea")

INPUTS: dict[str, InputSpec] = {
    "lift_restriction": InputSpec(
        LiftRestriction, (FormField("restriction_id", "", "hidden"), COMMENT)
    ),
    "reissue_card": InputSpec(
        ReissueCard,
        (
            FormField("reason", gettext_lazy("Reason"), "textarea"),
            FormField(
                "delivery",
                gettext_lazy("Delivery"),
                "select",
                (
                    ("office", gettext_lazy("Pick up in an office")),
                    ("courier", gettext_lazy("Courier")),
                ),
            ),
            FormField("address", gettext_lazy("Delivery address (for a courier)")),
        ),
    ),
    "refund_charge": InputSpec(
        RefundCharge,
        (
            FormField("amount", gettext_lazy("Amount, ₽"), "number"),
            FormField("reason", gettext_lazy("Reason"), "textarea"),
        ),
        amount_field="amount",
    ),
    "disable_service": InputSpec(
        DisableService, (FormField("service_product_id", "", "hidden"), COMMENT)
    ),
    "change_tariff": InputSpec(
        # "tariff": a list of the provider's tariffs on sale (clients.selectors.tariffs_offered)
        ChangeTariff,
        (FormField("tariff_name", gettext_lazy("New tariff"), "tariff"), COMMENT),
    ),
    "start_auto_exchange": InputSpec(
        StartAutoExchange,
        (
            FormField(
                "currency_pair",
                gettext_lazy("Currency pair"),
                "select",
                tuple((p, p) for p in CURRENCY_PAIRS),
            ),
            FormField("rate", gettext_lazy("Rate"), "number"),
            COMMENT,
        ),
    ),
    "correct_delivery_address": InputSpec(
        CorrectDeliveryAddress,
        (FormField("address", gettext_lazy("Correct delivery address")), COMMENT),
    ),
}


def input_spec(kind: str) -> InputSpec:
    spec = INPUTS.get(kind)
    if spec is None:
        raise ServiceError(
            {"action": _("This action has no input form «%(kind)s».") % {"kind": kind}}
        )
    return spec


def _message(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return _("Fill in this field.")
    if kind in ("string_too_short",):
        return _("Too short: at least %(n)s characters.") % {"n": ctx.get("min_length")}
    if kind in ("string_too_long",):
        return _("Too long: at most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind in ("greater_than",):
        return _("Must be greater than %(n)s.") % {"n": ctx.get("gt")}
    if kind in ("decimal_parsing", "int_parsing", "decimal_type", "int_type"):
        return _("Enter a number.")
    if kind in ("decimal_max_places",):
        return _("At most %(n)s digits after the point.") % {"n": ctx.get("decimal_places")}
    if kind in ("literal_error", "enum"):
        return _("Choose a value from the list.")
    if kind == "extra_forbidden":
        return _("Unexpected field.")
    return str(err.get("msg", _("Invalid value.")))


def validate_input(kind: str, data: dict, *, limit: Decimal | None = None) -> dict:
    """Validate an action's input; return the JSON-ready dict or raise ServiceError per field."""
    spec = input_spec(kind)
    try:
        parsed = spec.model.model_validate(data or {})
    except PydanticValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            msg = str(err.get("msg", ""))
            if not loc and "address:" in msg:
                errors.setdefault("address", []).append(
                    _("A courier needs the full delivery address.")
                )
                continue
            errors.setdefault(loc[0] if loc else "input", []).append(_message(err))
        raise ServiceError(errors) from exc
    if limit is not None and spec.amount_field:
        amount = getattr(parsed, spec.amount_field)
        if amount > limit:
            raise ServiceError(
                {spec.amount_field: _("At most %(limit)s ₽ for this action.") % {"limit": limit}}
            )
    return parsed.model_dump(mode="json")
