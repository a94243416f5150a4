"""A product on the client card reads in words: no raw keys, labels right for the business."""

import re

import pytest
from django.urls import reverse

from otklik.clients.services import client_create, product_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_client(db):
    client = client_create(last_name="Орлов", first_name="Пётр", phones=["+79161234567"])
    product_create(
        client=client,
        kind="bank_service",
        name="Автообмен",
        provider="Банк «Меридиан»",
        details={
            "service_code": "auto_fx",
            "parameters": {
                "currency_pair": "RUB→USD",
                "schedule": "каждый час",
                "trigger": "зачисление заработной платы",
                "share": "50% зачисления",
                "check": "остаток не меньше суммы",
            },
        },
    )
    product_create(
        client=client,
        kind="loan",
        name="Микрозайм",
        provider="МФК «Быстрые деньги»",
        details={"principal": "15000", "outstanding": "9000", "rate_percent": "292"},
    )
    product_create(
        client=client,
        kind="telecom_tariff",
        name="Всё включено",
        provider="Мобильная связь «Волна»",
        details={"msisdn": "9161234567", "balance": "100"},
    )
    return client


def _facts(page: str) -> str:
    """The product facts (labels and values) of the card, without markup."""
    return " ".join(
        re.sub(r"<[^>]+>", " ", m)
        for m in re.findall(r"<dl class=\"facts\">(.*?)</dl>", page, re.S)
    )


def test_products_in_russian(cast, client, mixed_client):
    client.force_login(cast.sue)
    page = client.get(reverse("workspace:client_card", args=[mixed_client.pk])).content.decode()
    facts = _facts(page)
    for raw in ("auto_fx", "currency_pair", "schedule", "trigger", "share", "check"):
        assert raw not in facts
    assert "Автообмен валюты" in facts and "Валютная пара" in facts
    assert "Курс" not in facts and "Ставка" in facts and "292 % годовых" in facts
    assert "Управляющая компания" not in facts and "Provider" not in facts
    assert "Банк" in facts and "Кредитор" in facts and "Оператор связи" in facts


def test_products_in_english(cast, client, mixed_client):
    client.force_login(cast.sue)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("workspace:client_card", args=[mixed_client.pk])).content.decode()
    facts = _facts(page)
    assert "auto_fx" not in facts and "Currency pair" in facts
    assert "Interest rate" in facts and "Provider" not in facts
    assert "Lender" in facts and "Mobile operator" in facts and "Bank" in facts
