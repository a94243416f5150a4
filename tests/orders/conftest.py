"""Orders fixtures: story 000's client (ИИС-1 with frozen ОПИФ units), a case owned by Olga."""

import io
import uuid
from datetime import date

import pytest

from otklik.clients.services import client_create, product_create
from otklik.orders.catalogue import order_templates_ensure
from otklik.portal.auth import SESSION_CLIENT
from tests.factories import make_case


@pytest.fixture(autouse=True)
def _orders_env(settings, tmp_path, monkeypatch):
    """Files in a temporary MEDIA_ROOT, the stand-in back office, fresh throttle counters."""
    from otklik.orders import services

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ORDERS_BACK_OFFICE = "simulated"
    monkeypatch.setattr(services._attempts, "prefix", f"test-orders:{uuid.uuid4().hex}")
    monkeypatch.setattr(services._pacing, "prefix", f"test-orders-pacing:{uuid.uuid4().hex}")


@pytest.fixture
def templates(db):
    return order_templates_ensure()


def make_story_client(last_name="Кузнецов", phone="+7 916 482-17-35", frozen=True):
    client = client_create(
        last_name=last_name,
        first_name="Игорь",
        patronymic="Валерьевич",
        birth_date=date(1979, 4, 12),
        phones=[phone],
        emails=[f"{uuid.uuid4().hex[:8]}@example.com"],
    )
    iis = product_create(
        client=client,
        kind="iis",
        name="ИИС (тип 1)",
        number="ИИС-2019/044718",
        provider="УК «Вершина Капитал»",
        opened_on=date(2019, 3, 14),
        details={"iis_type": 1},
    )
    product_create(
        client=client,
        kind="fund_units",
        parent=iis,
        name="ОПИФ «Вершина — Глобальные акции»",
        number="ЛС-7781-044718",
        status="blocked" if frozen else "active",
        details={
            "fund_type": "opif",
            "units": "1250.334211",
            "frozen": frozen,
            "value_rub": "184320.55",
        },
    )
    product_create(
        client=client,
        kind="bank_account",
        name="Счёт для выплат",
        number="40817810938000447182",
        provider="Банк «Меридиан»",
        details={"currency": "RUB"},
    )
    return client, iis


@pytest.fixture
def igor(db):
    return make_story_client()


@pytest.fixture
def story_case(cast, igor, templates):
    client, _iis = igor
    return make_case(
        actor=cast.olga, client=client, subject="Закрыть ИИС-1: паи ОПИФ заблокированы"
    )


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def portal_login_as(client, person) -> None:
    session = client.session
    session[SESSION_CLIENT] = person.pk
    session.save()
