"""Typed product details: each kind accepts its fields and refuses anything else."""

import pytest

from otklik.clients.product_details import validate_details
from otklik.clients.services import product_create
from otklik.common.errors import ServiceError
from otklik.common.luhn import luhn_complete, luhn_valid
from otklik.common.masking import mask_pan
from tests.factories import ClientFactory


def test_luhn():
    assert luhn_valid("4561261212345467")
    assert not luhn_valid("4561261212345464")
    assert luhn_valid(luhn_complete("220070000000000"))
    assert mask_pan("2200700000000007") == "2200 70•• •••• 0007"


def test_card_with_bad_luhn_is_refused():
    with pytest.raises(Exception) as err:
        validate_details(
            "card",
            {
                "pan": "4561261212345464",
                "payment_system": "Visa",
                "level": "Gold",
                "expires": "12/29",
            },
        )
    assert "details.pan" in err.value.message_dict


def test_unknown_field_is_refused():
    with pytest.raises(Exception) as err:
        validate_details("iis", {"iis_type": 1, "colour": "red"})
    assert "details.colour" in err.value.message_dict


def test_iis_type_must_be_1_2_3():
    with pytest.raises(Exception) as err:
        validate_details("iis", {"iis_type": 4})
    assert "details.iis_type" in err.value.message_dict


def test_fund_units_frozen_normalised():
    details = validate_details("fund_units", {"fund_type": "opif", "units": "12.5", "frozen": True})
    assert details == {"fund_type": "opif", "units": "12.5", "frozen": True, "value_rub": None}


def test_telecom_msisdn_normalised():
    details = validate_details(
        "telecom_tariff", {"msisdn": "8 (903) 111-22-33", "balance": "15", "reserved": "980.50"}
    )
    assert details["msisdn"] == "9031112233" and details["reserved"] == "980.50"


def test_fund_units_held_on_iis_of_same_client_only(db):
    owner = ClientFactory()
    iis = product_create(client=owner, kind="iis", name="ИИС", details={"iis_type": 1})
    with pytest.raises(ServiceError) as err:
        product_create(
            client=ClientFactory(),
            kind="fund_units",
            name="ОПИФ",
            parent=iis,
            details={"fund_type": "opif", "units": "1"},
        )
    assert "parent" in err.value.message_dict
