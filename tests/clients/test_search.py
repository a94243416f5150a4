"""Finding the client on the line: by name, phone in any format, e-mail, contract or card."""

import pytest

from otklik.clients.selectors import client_search
from otklik.clients.services import client_create
from otklik.common.errors import ServiceError
from otklik.common.luhn import luhn_complete
from tests.factories import make_product


@pytest.fixture
def ivanova(db):
    return client_create(
        last_name="Иванова",
        first_name="Алёна",
        patronymic="Петровна",
        phones=["+7 (916) 123-45-67"],
        emails=["Alena.Ivanova@example.ru"],
    )


@pytest.mark.parametrize(
    "query",
    [
        "Иванова",
        "иванова",
        "ИВАН",
        "Иванова Алена",
        "алёна петровна",
        "алена",
        "+79161234567",
        "8 916 123 45 67",
        "9161234567",
        "916 123",
        "alena.ivanova@",
        "ALENA.IVANOVA@EXAMPLE.RU",
    ],
)
def test_finds_by_name_phone_email(cast, ivanova, query):
    assert client_search(user=cast.alice, query=query) == [ivanova]


def test_finds_by_contract_and_card_number(cast, ivanova):
    pan = luhn_complete("220070123456789")
    make_product(
        ivanova,
        "card",
        name="Мир Премиум",
        details={"pan": pan, "payment_system": "Мир", "level": "Premium", "expires": "01/30"},
    )
    make_product(ivanova, "iis", name="ИИС", number="ИИС-2021/0457", details={"iis_type": 1})
    assert client_search(user=cast.alice, query=pan) == [ivanova]
    assert client_search(user=cast.alice, query="иис-2021/0457") == [ivanova]


def test_no_match_and_too_short(cast, ivanova):
    assert client_search(user=cast.alice, query="Сидоров") == []
    assert client_search(user=cast.alice, query="и") == []
    assert client_search(user=cast.alice, query="   ") == []


def test_specialist_finds_nobody_without_handoff(cast, ivanova):
    assert client_search(user=cast.sam, query="Иванова") == []


def test_bad_phone_is_refused_and_nothing_saved(db):
    from otklik.clients.models import Client

    with pytest.raises(ServiceError):
        client_create(last_name="Сидоров", first_name="Иван", phones=["12345"])
    assert not Client.objects.filter(last_name="Сидоров").exists()
