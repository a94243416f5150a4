"""The demo builder: all story scenes, then the filler clients and cases around them."""

from datetime import date, timedelta
from decimal import Decimal

from otklik.accounts.models import User
from otklik.cases.models import (
    CaseStatus,
    Direction,
    Priority,
)
from otklik.cases.services import (
    case_transition,
    interaction_register,
)
from otklik.clients.models import (
    ChannelKind,
    Client,
    Segment,
)
from otklik.clients.services import (
    client_create,
    product_create,
)
from otklik.demo import names
from otklik.demo.reference import (
    BANK_CHAT,
    BROKER,
    MFO,
    PREMIUM,
    TELECOM,
)
from otklik.demo.scenes_000_001 import (
    Stories000To001,
)
from otklik.demo.scenes_002_004 import (
    Stories002To004,
)

FILLER_CLIENTS = 32


class DemoBuilder(Stories000To001, Stories002To004):
    """Builds the story scenes one by one, then the filler."""

    # -- the scenes ---------------------------------------------------------------

    def build(self) -> dict[str, Client]:
        stories = {
            "000_iis": self.story_000_iis(),
            "000_dividends": self.story_000_dividends(),
            "001_court": self.story_001_court(),
            "001_charges": self.story_001_charges(),
            "002_abroad": self.story_002_abroad(),
            "003_premium": self.story_003_premium(),
            "004_telecom": self.story_004_telecom(),
        }
        self.filler()
        return stories

    # -- the filler ---------------------------------------------------------------

    FILLER_SCENES = (
        # (team, topic, subject, channel)
        (
            BROKER,
            "Налоговый вычет и справки",
            "Справка для налогового вычета по ИИС",
            ChannelKind.PORTAL,
        ),
        (BROKER, "Дивиденды и выплаты", "Когда придёт купон по облигациям", ChannelKind.PHONE),
        (
            BROKER,
            "Заблокированные активы",
            "Что с заблокированными иностранными бумагами",
            ChannelKind.EMAIL,
        ),
        (BROKER, "Закрытие ИИС", "Перевести ИИС к другому брокеру", ChannelKind.PHONE),
        (BANK_CHAT, "Переводы и платежи", "Перевод по номеру телефона не дошёл", ChannelKind.CHAT),
        (BANK_CHAT, "Ограничения по операциям", "Не проходит оплата в интернете", ChannelKind.CHAT),
        (BANK_CHAT, "Блокировка карты", "Заблокировать карту: потерял", ChannelKind.CHAT),
        (MFO, "Погашение займа", "Продлить срок займа", ChannelKind.PHONE),
        (MFO, "Погашение займа", "Платёж не отразился в ЛК", ChannelKind.PORTAL),
        (MFO, "Судебное взыскание", "Пришло письмо от коллекторов", ChannelKind.PHONE),
        (
            PREMIUM,
            "Пакет услуг и критерии бесплатности",
            "Почему списали плату за пакет",
            ChannelKind.PHONE,
        ),
        (PREMIUM, "Перевыпуск карты", "Перевыпуск карты с истекающим сроком", ChannelKind.CHAT),
        (
            TELECOM,
            "Баланс и списания (связь)",
            "Списание за подписку на контент",
            ChannelKind.PHONE,
        ),
        (
            TELECOM,
            "Мобильный интернет",
            "Не работает мобильный интернет в роуминге",
            ChannelKind.CHAT,
        ),
        (TELECOM, "Тарифы и услуги связи", "Подключить семейный тариф", ChannelKind.PORTAL),
    )

    def _operator_of(self, team: str) -> User:
        return {
            BROKER: self.staff["broker"],
            BANK_CHAT: self.staff["chat"],
            MFO: self.staff["mfo"],
            PREMIUM: self.staff["manager"],
            TELECOM: self.staff["telecom"],
        }[team]

    def _filler_products(self, client: Client, team: str) -> None:
        rng = self.rng
        if team == BROKER:
            product_create(
                client=client,
                kind="iis",
                name="ИИС (тип 3)",
                number=f"ИИС-{rng.randrange(2020, 2026)}/{rng.randrange(10**6):06d}",
                provider="УК «Вершина Капитал»",
                details={"iis_type": 3},
            )
        elif team in (BANK_CHAT, PREMIUM):
            level = "Platinum" if team == PREMIUM else "Классическая"
            product_create(
                client=client,
                kind="card",
                name=f"Дебетовая карта {level}",
                provider="Банк «Меридиан»",
                details={
                    "pan": self.pan("220015"),
                    "payment_system": "Мир",
                    "level": level,
                    "expires": f"{rng.randrange(1, 13):02d}/{rng.randrange(26, 31)}",
                },
            )
        elif team == MFO:
            principal = rng.choice((5000, 10000, 15000, 30000))
            product_create(
                client=client,
                kind="loan",
                name="Заём «До зарплаты»",
                number=f"З-{rng.randrange(2023, 2026)}-{rng.randrange(10**7):07d}",
                provider="МФК «Светлый займ»",
                details={
                    "principal": f"{principal}.00",
                    "outstanding": f"{principal * rng.choice((0.4, 0.8, 1.2)):.2f}",
                },
            )
        else:
            phone = client.contacts.filter(kind=ChannelKind.PHONE).first()
            product_create(
                client=client,
                kind="telecom_tariff",
                name="«Безлимит Плюс»",
                provider="Оператор связи «Волна»",
                details={
                    "msisdn": phone.value,
                    "monthly_fee": "650.00",
                    "balance": str(Decimal(rng.randrange(0, 150000)) / 100),
                },
            )

    def filler(self) -> None:
        """About thirty ordinary clients, so the queues and the search look lived-in."""
        rng = self.rng
        used_phones: set[str] = set()
        for index in range(FILLER_CLIENTS):
            female = rng.random() < 0.5
            first = rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES)
            patronymic = rng.choice(names.PATRONYMICS)[1 if female else 0]
            last = names.surname_for(rng.choice(names.SURNAMES), female=female)
            phone = f"+79{rng.randrange(10**9):09d}"
            while phone in used_phones:
                phone = f"+79{rng.randrange(10**9):09d}"
            used_phones.add(phone)
            team, topic, subject, channel = self.FILLER_SCENES[index % len(self.FILLER_SCENES)]
            actor = self._operator_of(team)
            client = client_create(
                last_name=last,
                first_name=first,
                patronymic=patronymic,
                birth_date=date(
                    rng.randrange(1950, 2004), rng.randrange(1, 13), rng.randrange(1, 29)
                ),
                segment=Segment.PREMIUM if team == PREMIUM else Segment.MASS,
                personal_manager=self.staff["manager"] if team == PREMIUM else None,
                address_as=f"{first} {patronymic}",
                phones=[phone],
                emails=[names.email_for(first, last, rng)] if rng.random() < 0.6 else [],
            )
            self._filler_products(client, team)
            for _ in range(rng.randrange(0, 3)):
                self.closed_case(
                    actor=actor,
                    client=client,
                    subject=subject,
                    topic=topic,
                    channel=rng.choice((ChannelKind.PHONE, ChannelKind.CHAT)),
                    at=self.ago(days=rng.randrange(8, 300), hours=rng.randrange(0, 10)),
                    note="Консультация по вопросу клиента.",
                    reply="Ответили на вопрос, клиент удовлетворён ответом.",
                )
            self._filler_open_case(index, client, actor, team, topic, subject, channel)

    def _filler_open_case(self, index, client, actor, team, topic, subject, channel) -> None:
        rng = self.rng
        roll = index % 8
        if roll == 0:
            return  # some clients have only history
        if index == 9:
            # The overdue one: opened five days ago and forgotten after a question to him.
            case = self.phone_case(
                actor=actor,
                client=client,
                subject=subject,
                topic=topic,
                at=self.ago(days=5, hours=2),
                summary="Клиент ждёт ответа.",
                note="Нужно уточнить детали и перезвонить.",
            )
            case_transition(
                actor=actor,
                case=case,
                to_status=CaseStatus.WAITING_CLIENT,
                now=self.ago(days=4, hours=23),
            )
            return
        at = self.ago(hours=rng.randrange(1, 60), minutes=rng.randrange(0, 60))
        priority = rng.choice((Priority.LOW, Priority.NORMAL, Priority.NORMAL, Priority.HIGH))
        if channel in (ChannelKind.CHAT, ChannelKind.PORTAL, ChannelKind.EMAIL):
            self.written_case(
                actor=actor,
                client=client,
                subject=subject,
                topic=topic,
                at=at,
                channel=channel,
                priority=priority,
                text=f"Здравствуйте! {subject}. Помогите, пожалуйста, разобраться.",
            )
        else:
            case = self.phone_case(
                actor=actor,
                client=client,
                subject=subject,
                topic=topic,
                at=at,
                priority=priority,
                summary=subject,
                note="Взято в работу, уточняю детали.",
            )
            if roll == 5:
                case_transition(
                    actor=actor,
                    case=case,
                    to_status=CaseStatus.ANSWERED,
                    now=at + timedelta(minutes=30),
                )
        if roll == 3:
            # An earlier outbound call on the same client, not linked to a case.
            interaction_register(
                actor=actor,
                client=client,
                channel=ChannelKind.PHONE,
                direction=Direction.OUTBOUND,
                new_case_subject="Исходящий звонок: уточнение",
                summary="Не дозвонились, клиент сбросил звонок.",
                now=at - timedelta(days=1),
            )
