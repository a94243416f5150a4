"""Story 002's client (card blocked for a fraud check abroad), the demo catalogue, cases."""

from dataclasses import dataclass
from datetime import date

import pytest
from django.utils import timezone

from otklik.actions.demo import load_demo_actions
from otklik.cases.models import Case, Interaction
from otklik.cases.services import interaction_register
from otklik.clients.models import Client, Product, Restriction
from otklik.clients.services import client_create, product_create, restriction_place
from otklik.common.luhn import luhn_complete


@dataclass
class Abroad:
    client: Client
    card: Product
    fraud: Restriction
    foreign: Restriction
    account: Product
    court: Restriction
    chat_case: Case
    chat: Interaction


@pytest.fixture
def catalogue(db):
    load_demo_actions()


@pytest.fixture
def abroad(cast, catalogue) -> Abroad:
    client = client_create(
        last_name="Лебедева", first_name="Наталья", patronymic="Игоревна", phones=["+79216358217"]
    )
    card = product_create(
        client=client,
        kind="card",
        name="Дебетовая карта «Мир»",
        status="blocked",
        opened_on=date(2022, 9, 12),
        details={
            "pan": luhn_complete("220015000000000"),
            "payment_system": "Мир",
            "level": "Классическая",
            "expires": "09/28",
        },
    )
    fraud = restriction_place(product=card, kind="fraud_check", reason="Оплата за рубежом")
    foreign = restriction_place(product=card, kind="foreign_operations")
    account = product_create(
        client=client,
        kind="bank_account",
        name="Накопительный счёт",
        number="40817810100000000001",
        details={"currency": "RUB", "balance": "1000.00"},
    )
    court = restriction_place(product=account, kind="court_order", reason="Исполнительный лист")
    chat = interaction_register(
        actor=cast.bob,
        client=client,
        channel="chat",
        new_case_subject="Не могу расплатиться картой за границей",
    )
    return Abroad(client, card, fraud, foreign, account, court, chat.case, chat)


def phone_case(actor, client) -> Case:
    """A phone call on a new case; the call has ended (so the case's channel counts)."""
    interaction = interaction_register(
        actor=actor, client=client, channel="phone", new_case_subject="Звонок"
    )
    Interaction.objects.filter(pk=interaction.pk).update(ended_at=timezone.now())
    return interaction.case
