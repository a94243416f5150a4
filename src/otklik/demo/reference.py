"""Reference data shared by the demo and the load generator: teams, departments, topics."""

from dataclasses import dataclass

from django.db import transaction

from otklik.accounts.models import Department, Team
from otklik.cases.models import Topic
from otklik.cases.services import topic_merge
from otklik.clients.models import BusinessLine

BROKER = "Вторая линия (брокер/УК)"
BANK_CHAT = "Чат банка"
PREMIUM = "Премиальное обслуживание (ДПМ)"
MFO = "Контакт-центр МФО"
TELECOM = "Абонентская служба"

TEAMS: dict[str, str] = {
    BROKER: "Вторая линия управляющей компании и брокера: ИИС, фонды, выплаты.",
    BANK_CHAT: "Чат банка в мобильном приложении и на сайте: карты, ограничения, переводы.",
    PREMIUM: "Дистанционные персональные менеджеры премиальных клиентов.",
    MFO: "Линия микрофинансовой компании: займы, погашение, судебное взыскание.",
    TELECOM: "Абонентская служба оператора связи: тарифы, баланс, услуги.",
}

DEPARTMENTS: dict[str, str] = {
    "security": "Служба безопасности (СБ)",
    "treasury": "Казначейство",
    "legal": "Юридический отдел (судебное взыскание)",
    "product": "Продуктовое подразделение",
    "back_office": "Бэк-офис",
}

# topic → its default team
TOPICS: dict[str, str] = {
    "Закрытие ИИС": BROKER,
    "Дивиденды и выплаты": BROKER,
    "Заблокированные активы": BROKER,
    "Налоговый вычет и справки": BROKER,
    "Судебное взыскание": MFO,
    "Погашение займа": MFO,
    "Непонятные списания": MFO,
    "Блокировка карты": BANK_CHAT,
    "Ограничения по операциям": BANK_CHAT,
    "Переводы и платежи": BANK_CHAT,
    "Автообмен валюты": PREMIUM,
    "Перевыпуск карты": PREMIUM,
    "Адрес доставки карты": PREMIUM,
    "Пакет услуг и критерии бесплатности": PREMIUM,
    "Тарифы и услуги связи": TELECOM,
    "Баланс и списания (связь)": TELECOM,
    "Мобильный интернет": TELECOM,
    "Паевые фонды": BROKER,
    "Займы": MFO,
    "Списания по карте": BANK_CHAT,
}

# topic → the business line it belongs to (issue 16, defect 10): pickers group by it and
# the portal offers a client only the topics of the lines they are a customer of.
TOPIC_LINES: dict[str, str] = {
    **dict.fromkeys(
        [
            "Закрытие ИИС",
            "Дивиденды и выплаты",
            "Заблокированные активы",
            "Налоговый вычет и справки",
            "Паевые фонды",
        ],
        BusinessLine.BROKER,
    ),
    **dict.fromkeys(
        ["Судебное взыскание", "Погашение займа", "Непонятные списания", "Займы"],
        BusinessLine.MFO,
    ),
    **dict.fromkeys(
        [
            "Блокировка карты",
            "Ограничения по операциям",
            "Переводы и платежи",
            "Автообмен валюты",
            "Перевыпуск карты",
            "Адрес доставки карты",
            "Пакет услуг и критерии бесплатности",
            "Списания по карте",
        ],
        BusinessLine.BANK,
    ),
    **dict.fromkeys(
        ["Тарифы и услуги связи", "Баланс и списания (связь)", "Мобильный интернет"],
        BusinessLine.TELECOM,
    ),
}

# Near-duplicates an older demo (or the procedures seed) created → the topic they merge into.
TOPIC_MERGES: dict[str, str] = {
    "Автообмен": "Автообмен валюты",
    "Доставка карты": "Адрес доставки карты",
    "Пакет услуг": "Пакет услуг и критерии бесплатности",
    "Тарифы": "Тарифы и услуги связи",
}


@dataclass
class Reference:
    teams: dict[str, Team]
    departments: dict[str, Department]
    topics: dict[str, Topic]


@transaction.atomic
def reference_data_ensure() -> Reference:
    """Create the demo teams, departments and topics if missing; return them by name/code."""
    teams = {}
    for name, description in TEAMS.items():
        teams[name], _ = Team.objects.get_or_create(
            name=name, defaults={"description": description}
        )
    departments = {}
    for code, name in DEPARTMENTS.items():
        departments[code], _ = Department.objects.get_or_create(code=code, defaults={"name": name})
    topics = {}
    for name, team_name in TOPICS.items():
        topics[name], _ = Topic.objects.get_or_create(
            name=name, defaults={"default_team": teams[team_name]}
        )
        if topics[name].business_line != TOPIC_LINES[name]:
            topics[name].business_line = TOPIC_LINES[name]
            topics[name].save(update_fields=["business_line"])
    for duplicate, into in TOPIC_MERGES.items():
        found = Topic.objects.filter(name=duplicate).first()
        if found is not None:
            topic_merge(source=found, into=topics[into])
    return Reference(teams=teams, departments=departments, topics=topics)
