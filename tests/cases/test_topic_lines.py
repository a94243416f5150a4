"""Defect 10: topics belong to a business line and may be hidden from clients."""

import pytest
from django.urls import reverse

from otklik.cases.models import Case, Topic
from otklik.cases.services import topic_merge
from otklik.clients.models import BusinessLine
from otklik.common.errors import ServiceError
from otklik.sla.models import SlaPolicy
from tests.factories import ClientFactory, make_case, make_product
from tests.portal.conftest import login_as


@pytest.fixture
def topics(db):
    def topic(name, line, visible=True):
        return Topic.objects.create(name=name, business_line=line, visible_to_clients=visible)

    return {
        "card": topic("Блокировка карты", BusinessLine.BANK),
        "fraud": topic("Проверка антифрод (внутренняя)", BusinessLine.BANK, visible=False),
        "tariff": topic("Тарифы и услуги связи", BusinessLine.TELECOM),
        "loan": topic("Погашение займа", BusinessLine.MFO),
        "common": topic("Жалоба на обслуживание", ""),
    }


def test_portal_offers_only_visible_topics_of_the_clients_lines(client, topics):
    person = ClientFactory()
    make_product(person, "card")  # a bank customer only
    login_as(client, person)
    page = client.get(reverse("portal:case_new")).content.decode()
    assert "Блокировка карты" in page and "Жалоба на обслуживание" in page
    for hidden in ("Тарифы и услуги связи", "Погашение займа", "Проверка антифрод"):
        assert hidden not in page
    # Posting another line's topic is refused like an unknown one.
    response = client.post(
        reverse("portal:case_new"),
        {"subject": "Вопрос", "body": "Текст", "topic": str(topics["tariff"].pk)},
    )
    assert response.status_code == 422
    assert not Case.objects.filter(client=person).exists()


def test_operator_picker_groups_topics_by_line(client, cast, topics):
    case = make_case(actor=cast.alice)
    client.force_login(cast.alice)
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    bank = page.index('<optgroup label="Банк">')
    telecom = page.index('<optgroup label="Связь">')
    common = page.index("Общие для всех направлений")
    assert common < bank < page.index("Блокировка карты") < telecom
    assert telecom < page.index(">Тарифы и услуги связи<")
    # Operators do see topics hidden from clients.
    assert "Проверка антифрод (внутренняя)" in page


def test_admin_topic_picker_is_grouped(admin_client, topics):
    page = admin_client.get(reverse("admin:sla_slapolicy_add")).content.decode()
    assert '<optgroup label="Микрофинансы">' in page


def test_merge_moves_everything_and_deletes_the_duplicate(cast, topics):
    old = Topic.objects.create(name="Автообмен", business_line=BusinessLine.BANK)
    new = Topic.objects.create(name="Автообмен валюты", business_line=BusinessLine.BANK)
    case = make_case(actor=cast.alice, topic=old)
    policy = SlaPolicy.objects.create(name="Автообмен", topic=old)
    topic_merge(source=old, into=new)
    assert not Topic.objects.filter(name="Автообмен").exists()
    case.refresh_from_db()
    policy.refresh_from_db()
    assert case.topic == new and policy.topic == new
    with pytest.raises(ServiceError):
        topic_merge(source=new, into=new)


def test_demo_reference_has_no_near_duplicates_and_every_topic_a_line(db):
    from otklik.demo.reference import reference_data_ensure
    from otklik.knowledge.services import seed_procedures

    seed_procedures()
    Topic.objects.get_or_create(name="Автообмен")  # as an older demo created it
    reference_data_ensure()
    names = set(Topic.objects.values_list("name", flat=True))
    assert "Автообмен" not in names and "Автообмен валюты" in names
    assert not Topic.objects.filter(business_line="").exists()
