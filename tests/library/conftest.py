import pytest

from otklik.cases.models import AuthorKind, MessageVisibility
from otklik.cases.services import interaction_register, message_add
from otklik.clients.models import ChannelKind
from otklik.clients.services import client_create
from tests.factories import TopicFactory, make_case

CARD = "4276 3800 1234 5679"  # passes the Luhn check
PASSPORT = "45 01 123456"
PHONE = "+7 916 555-12-34"
EMAIL = "m.orlova@example.ru"
SNILS = "112-233-445 95"
INN = "500100732259"
ADDRESS = "ул. Тверская, д. 5, кв. 12"


@pytest.fixture
def orlova(db):
    return client_create(
        last_name="Орлова",
        first_name="Марина",
        patronymic="Викторовна",
        phones=[PHONE],
        emails=[EMAIL],
    )


@pytest.fixture
def sensitive_case(cast, orlova):
    """Story 000: a card delivered to a wrong address; the client dictates everything."""
    case = make_case(
        actor=cast.alice,
        client=orlova,
        subject="Орлова: карта уехала не по тому адресу",
        channel=ChannelKind.PHONE,
        topic=TopicFactory(name="Доставка карты"),
    )
    interaction_register(
        actor=cast.alice,
        client=orlova,
        channel=ChannelKind.PHONE,
        case=case,
        summary=f"Марина Викторовна звонила с {PHONE}, просит сменить адрес на {ADDRESS}",
    )
    message_add(
        actor=None,
        case=case,
        author_kind=AuthorKind.CLIENT,
        visibility=MessageVisibility.PUBLIC,
        body=f"Моя карта {CARD}, паспорт {PASSPORT}, СНИЛС {SNILS}, ИНН {INN}, почта {EMAIL}. "
        f"Перезвоните на {PHONE}. Списали 1 500 ₽.",
    )
    message_add(
        actor=cast.alice,
        case=case,
        visibility=MessageVisibility.PUBLIC,
        body="Марина Викторовна, курьер привезёт карту завтра, адрес исправили.",
    )
    return case
