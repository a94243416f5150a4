"""Stories 002 (a card blocked abroad), 003 (a premium client) and 004 (a telecom balance)."""

from datetime import date

from django.utils import timezone

from otklik.cases.models import (
    Priority,
)
from otklik.clients.models import (
    ChannelKind,
    Client,
    ContactPoint,
    Reachability,
    Segment,
)
from otklik.clients.services import (
    client_create,
    contact_point_set_reachability,
    product_create,
    restriction_place,
)
from otklik.demo.builder_base import (
    DemoBuilderBase,
)
from otklik.handoffs.services import handoff_send

# Story 003: the RUB→USD rate of the salary's credit date, which treasury applies by hand.
DEMO_FX_RATE = "92.47"


class Stories002To004(DemoBuilderBase):
    """The scenes of stories 002, 003 and 004."""

    def story_002_abroad(self) -> Client:
        """Story 002: a card blocked for a fraud check, the client abroad, unreachable by phone."""
        operator, chat = self.staff["operator"], self.staff["chat"]
        client = client_create(
            last_name="Лебедева",
            first_name="Наталья",
            patronymic="Игоревна",
            birth_date=date(1984, 11, 8),
            address_as="Наталья Игоревна",
            preferences="Сейчас за границей; пишет в чат банка в приложении.",
            phones=["+7 921 635-82-17"],
            emails=["n.lebedeva84@example.com"],
        )
        phone = client.contacts.get(kind=ChannelKind.PHONE)
        contact_point_set_reachability(
            contact=phone,
            reachability=Reachability.LIMITED,
            note="за границей: входящие с коротких номеров не проходят",
        )
        ContactPoint.objects.create(
            client=client,
            kind=ChannelKind.CHAT,
            value="Чат в мобильном приложении банка",
            reachability=Reachability.REACHABLE,
        )
        card = product_create(
            client=client,
            kind="card",
            name="Дебетовая карта «Мир»",
            number="",
            provider="Банк «Меридиан»",
            status="blocked",
            opened_on=date(2022, 9, 12),
            details={
                "pan": self.pan("220015"),
                "payment_system": "Мир",
                "level": "Классическая",
                "expires": "09/28",
            },
        )
        restriction_place(
            product=card,
            kind="fraud_check",
            reason="Проверка правомерности операций: оплата 48 900 ₽ в зарубежном магазине",
            placed_at=self.ago(hours=4, minutes=10),
        )
        restriction_place(
            product=card,
            kind="foreign_operations",
            reason="Запрет операций за рубежом установлен вместе с проверкой операций",
            placed_at=self.ago(hours=4, minutes=10),
        )
        product_create(
            client=client,
            kind="bank_account",
            name="Счёт карты",
            number="40817810100006352217",
            provider="Банк «Меридиан»",
            details={"currency": "RUB", "balance": "61240.35"},
        )
        first = self.phone_case(
            actor=chat,
            client=client,
            subject="Карта заблокирована, клиентка за границей",
            topic="Блокировка карты",
            at=self.ago(hours=3, minutes=30),
            summary="Не проходит оплата картой; карта на проверке операций.",
            note="Карта заблокирована для проверки операций. Передано в СБ: перезвонить "
            "клиентке для подтверждения операций.",
        )
        handoff_send(
            actor=chat,
            case=first,
            department=self.ref.departments["security"],
            question="Клиентка за границей, карта на проверке операций. Перезвоните ей для "
            "подтверждения и разблокировки.",
            now=self.ago(hours=3, minutes=25),
        )
        self.written_case(
            actor=operator,
            client=client,
            subject="Не могу расплатиться картой за границей",
            topic="Блокировка карты",
            at=self.ago(minutes=12),
            priority=Priority.HIGH,
            text=(
                "Здравствуйте! Почему не получается расплатиться картой? Я за границей. "
                "Звонила вам утром, обещали перезвонить, но звонка так и не было. Деньги на "
                "карте — мои единственные средства здесь."
            ),
        )
        return client

    def story_003_premium(self) -> Client:
        """Story 003: a premium client of a personal manager — three cases at once."""
        manager = self.staff["manager"]
        client = client_create(
            last_name="Орлов",
            first_name="Константин",
            patronymic="Евгеньевич",
            birth_date=date(1983, 2, 19),
            segment=Segment.PREMIUM,
            personal_manager=manager,
            address_as="Константин (на «ты», по его просьбе)",
            preferences=(
                "Звонит напрямую своему ДПМ. Общаемся на «ты» по инициативе клиента. "
                "Зарплату сразу меняет в доллары через «Автообмен». Увлекается танковыми "
                "онлайн-играми. Сообщать заранее, если не выполняется критерий бесплатности "
                "пакета."
            ),
            phones=["+7 903 418-62-90"],
            emails=["k.orlov@example.com"],
        )
        criteria = "Покупки по картам от 100 000 ₽ в месяц или остаток от 1 500 000 ₽"
        black = product_create(
            client=client,
            kind="card",
            name="MC World Black Edition (партнёрская, игровая)",
            provider="Банк «Меридиан»",
            status="blocked",
            opened_on=date(2022, 4, 1),
            details={
                "pan": self.pan("548673"),
                "payment_system": "Mastercard",
                "level": "World Black Edition",
                "package": "Пакет решений Platinum",
                "expires": "04/27",
                "package_free_criteria": criteria,
            },
        )
        restriction_place(
            product=black,
            kind="service_stop",
            reason="Карта изъята банкоматом стороннего банка; заблокирована процессингом",
            placed_at=self.ago(days=2, hours=20),
        )
        product_create(
            client=client,
            kind="card",
            name="Дебетовая карта Platinum",
            provider="Банк «Меридиан»",
            opened_on=date(2023, 1, 20),
            details={
                "pan": self.pan("220015"),
                "payment_system": "Мир",
                "level": "Platinum",
                "package": "Пакет решений Platinum",
                "expires": "01/29",
                "package_free_criteria": criteria,
            },
        )
        product_create(
            client=client,
            kind="bank_account",
            name="Зарплатный счёт",
            number="40817810700004186290",
            provider="Банк «Меридиан»",
            details={"currency": "RUB", "balance": "412760.00"},
        )
        product_create(
            client=client,
            kind="bank_account",
            name="Валютный счёт",
            number="40817840000004186290",
            provider="Банк «Меридиан»",
            details={"currency": "USD", "balance": "8120.00"},
        )
        product_create(
            client=client,
            kind="bank_service",
            name="Автообмен",
            provider="Банк «Меридиан»",
            opened_on=date(2023, 3, 1),
            details={
                "service_code": "auto_fx",
                "parameters": {
                    "currency_pair": "RUB→USD",
                    "schedule": "каждый час с 9:00 до 17:00",
                    "trigger": "зачисление заработной платы",
                    "share": "50% зачисления",
                    "check": "остаток на счёте не меньше суммы зачисления",
                    "rate": DEMO_FX_RATE,
                },
            },
        )
        self.closed_case(
            actor=manager,
            client=client,
            subject="Знакомство с персональным менеджером",
            topic="Пакет услуг и критерии бесплатности",
            channel=ChannelKind.PHONE,
            at=self.ago(days=240),
            note="Онбординг: каналы связи, критерии бесплатности пакета, как обращаться.",
            reply="Рассказал о прямом номере ДПМ, чате и критериях бесплатности пакета.",
        )
        seized = self.phone_case(
            actor=manager,
            client=client,
            subject="Карту World Black Edition изъял банкомат",
            topic="Перевыпуск карты",
            at=self.ago(days=2, hours=19),
            summary="Банкомат другого банка изъял карту; клиенту нужна такая же карта Black.",
            note=(
                "Карта выпускалась в ограниченную акцию с игровой партнёрской программой, "
                "продукт закрыт — перевыпустить нельзя. Клиенту важна не программа, а "
                "привилегии Black и выгодное снятие наличных. Запрос в продуктовое "
                "подразделение: карта Black на индивидуальных условиях без партнёрской "
                "программы."
            ),
        )
        handoff_send(
            actor=manager,
            case=seized,
            department=self.ref.departments["product"],
            question="Можно ли выпустить клиенту карту уровня Black на индивидуальных условиях "
            "без партнёрской программы вместо изъятой World Black Edition?",
            now=self.ago(days=2, hours=18),
        )
        fx = self.phone_case(
            actor=manager,
            client=client,
            subject="«Автообмен» не обменял зарплату",
            topic="Автообмен валюты",
            at=self.ago(hours=2, minutes=10),
            summary="Почему услуга «Автообмен» не сработала после зачисления зарплаты.",
            note=(
                "Зарплата зачислена в 10:40, проверка в 11:00 не обменяла: клиент успел "
                "оплатить покупку, и остаток стал меньше суммы зачисления. Клиент ждал "
                "валюту. Прошу казначейство провести обмен по курсу на дату зачисления."
            ),
        )
        credited = timezone.localtime(self.ago(hours=2, minutes=30))
        handoff_send(
            actor=manager,
            case=fx,
            department=self.ref.departments["treasury"],
            question=(
                f"Провести обмен 50% зарплаты RUB→USD по курсу на дату зачисления "
                f"{credited:%d.%m.%Y} ({credited:%H:%M}): {DEMO_FX_RATE.replace('.', ',')} ₽ "
                "за 1 USD. «Автообмен» не сработал из-за проверки остатка."
            ),
            now=self.ago(hours=2),
        )
        self.phone_case(
            actor=manager,
            client=client,
            priority=Priority.URGENT,
            subject="Исправить адрес доставки кредитной карты",
            topic="Адрес доставки карты",
            at=self.ago(minutes=50),
            summary="В заявке на кредитную карту указан неверный адрес доставки.",
            note=(
                "При заявке на сайте не нашёл свою улицу и указал неверный адрес; документы "
                "уже подписаны. Верный адрес: г. Москва, ул. Верхние Поля, д. 14, кв. 37. "
                "Нужно успеть до отправки карты в изготовление."
            ),
        )
        return client

    def story_004_telecom(self) -> Client:
        """Story 004: pay-as-you-go internet reserves the balance, the tariff change failed."""
        telecom = self.staff["telecom"]
        client = client_create(
            last_name="Зайцев",
            first_name="Андрей",
            patronymic="Николаевич",
            birth_date=date(1972, 7, 14),
            address_as="Андрей Николаевич",
            phones=["+7 950 127-48-33"],
        )
        product_create(
            client=client,
            kind="telecom_tariff",
            name="«Без абонентской платы» (архивный)",
            number="ЛС-5500127483",
            provider="Оператор связи «Волна»",
            opened_on=date(2016, 4, 2),
            details={
                "msisdn": "+7 950 127-48-33",
                "balance": "14.60",
                "reserved": "300.00",
                "monthly_fee": "0",
                "internet_billing": "10 ₽ за каждые 2 МБ",
            },
        )
        product_create(
            client=client,
            kind="telecom_service",
            name="Мобильный интернет (по факту)",
            provider="Оператор связи «Волна»",
            details={"fee": "0", "billing": "10 ₽ за каждые 2 МБ", "reserves_balance": True},
        )
        self.closed_case(
            actor=telecom,
            client=client,
            subject="Замена SIM-карты",
            topic="Тарифы и услуги связи",
            channel=ChannelKind.OFFICE,
            at=self.ago(days=400),
            note="SIM заменена в салоне, номер сохранён.",
            reply="SIM-карта заменена.",
        )
        self.phone_case(
            actor=telecom,
            client=client,
            subject="Пополнил баланс, деньги списались, тариф не сменился",
            topic="Тарифы и услуги связи",
            at=self.ago(minutes=15),
            priority=Priority.HIGH,
            summary="Абонент кричит: хотел сменить тариф, пополнил баланс — всё списалось.",
            note=(
                "Тариф без абонентской платы, интернет по факту: 10 ₽ за каждые 2 МБ; тариф "
                "резервирует часть баланса. Смена тарифа не прошла (не хватило суммы сверх "
                "резерва), списалось около 1 000 ₽ по старым условиям. План: отключить "
                "мобильный интернет, вернуть списанное, сменить тариф."
            ),
        )
        return client
