"""Reference data shared by the demo and the load generator: teams, departments, topics."""

from dataclasses import dataclass

from django.db import transaction

from otklik.accounts.models import Department, Team
from otklik.cases.models import Topic

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
    return Reference(teams=teams, departments=departments, topics=topics)
