"""Stories 000 (an ИИС closure, fund dividends) and 001 (a loan in court, disputed card charges)."""

from datetime import date

from otklik.cases.models import (
    MessageVisibility,
    Priority,
)
from otklik.cases.services import (
    case_update,
    message_add,
)
from otklik.clients.models import (
    ChannelKind,
    Client,
)
from otklik.clients.services import (
    client_create,
    product_create,
    restriction_place,
)
from otklik.demo.builder_base import (
    DemoBuilderBase,
    _aware,
)
from otklik.handoffs.services import handoff_send


class Stories000To001(DemoBuilderBase):
    """The scenes of stories 000 and 001."""

    def story_000_iis(self) -> Client:
        """Story 000: closing an ИИС-1 whose ОПИФ units are frozen by sanctions."""
        broker, senior = self.staff["broker"], self.staff["senior"]
        client = client_create(
            last_name="Кузнецов",
            first_name="Игорь",
            patronymic="Валерьевич",
            birth_date=date(1979, 4, 12),
            address_as="Игорь Валерьевич",
            preferences=(
                "Третий раз обращается по закрытию ИИС, раздражён отказами; просил связи со "
                "старшим специалистом или руководителем КЦ. Главное для него — формально "
                "закрыть ИИС в этом году, чтобы открыть новый и получить вычет; деньги могут "
                "подождать. Ещё два ИИС открыты в других компаниях: брокер «Северный фондовый "
                "дом» и банк «Меридиан»."
            ),
            phones=["+7 916 482-17-35"],
            emails=["i.kuznetsov79@example.com"],
        )
        iis = product_create(
            client=client,
            kind="iis",
            name="ИИС (тип 1)",
            number="ИИС-2019/044718",
            provider="УК «Вершина Капитал»",
            opened_on=date(2019, 3, 14),
            details={"iis_type": 1, "deduction_type": "A", "tax_deduction_lost": True},
        )
        opif = product_create(
            client=client,
            kind="fund_units",
            parent=iis,
            name="ОПИФ «Вершина — Глобальные акции»",
            number="ЛС-7781-044718",
            provider="УК «Вершина Капитал»",
            status="blocked",
            opened_on=date(2019, 3, 20),
            details={
                "fund_type": "opif",
                "units": "1250.334211",
                "frozen": True,
                "value_rub": "184320.55",
            },
        )
        restriction_place(
            product=opif,
            kind="sanctions_freeze",
            reason=(
                "Фонд закрыт для операций из-за санкций: паи нельзя продать или перевести "
                "к другому брокеру"
            ),
            placed_at=_aware(date(2022, 3, 1), 10),
        )
        product_create(
            client=client,
            kind="bank_account",
            name="Счёт для выплат по договору",
            number="40817810938000447182",
            provider="Банк «Меридиан»",
            opened_on=date(2018, 11, 2),
            details={"currency": "RUB"},
        )
        self.closed_case(
            actor=broker,
            client=client,
            subject="Закрыть ИИС и вывести деньги к брокеру",
            topic="Закрытие ИИС",
            channel=ChannelKind.PHONE,
            at=self.ago(days=21, hours=3),
            note="Клиент хочет закрыть ИИС; на счёте заблокированные паи ОПИФ.",
            reply="Сообщили, что закрыть ИИС в личном кабинете нельзя, пока на счёте "
            "заблокированные активы.",
        )
        self.closed_case(
            actor=broker,
            client=client,
            subject="Повторно: закрытие ИИС с заблокированными паями",
            topic="Закрытие ИИС",
            channel=ChannelKind.PHONE,
            at=self.ago(days=6, hours=5),
            note="Повторный звонок. Клиент недоволен отказом, требует руководителя.",
            reply="Закрыть ИИС нельзя до разблокировки паёв. Направили СМС со способами "
            "подачи официального обращения.",
        )
        case = self.phone_case(
            actor=broker,
            client=client,
            priority=Priority.HIGH,
            subject="Закрыть ИИС-1: паи ОПИФ заблокированы, вывод недоступен",
            topic="Закрытие ИИС",
            at=self.ago(hours=1, minutes=35),
            summary="Третье обращение: клиент требует закрыть ИИС и вывести деньги к брокеру.",
            note=(
                "Клиент хочет вывести деньги к брокеру и закрыть ИИС в УК «Вершина Капитал». "
                "Паи ОПИФ заблокированы (санкции), онлайн-закрытие в ЛК не работает. Открыл "
                "ещё два ИИС в других компаниях, не преобразовав этот в ИИС-3, — право на "
                "вычет потеряно. Ранее дважды отказали. Требует связи со старшим "
                "специалистом или руководителем КЦ, готов писать официальную жалобу."
            ),
        )
        case_update(actor=broker, case=case, owner=senior, now=self.ago(hours=1, minutes=25))
        message_add(
            actor=senior,
            case=case,
            visibility=MessageVisibility.INTERNAL,
            body="Взяла. Перезвоню клиенту: закрытие ИИС через распоряжение на подпись в ЛК, "
            "стоимость паёв останется на договоре до разблокировки.",
            now=self.ago(hours=1, minutes=20),
        )
        return client

    def story_000_dividends(self) -> Client:
        """Story 000, second call: dividends of a ЗПИФ swept into a money-market БПИФ."""
        broker = self.staff["broker"]
        client = client_create(
            last_name="Белов",
            first_name="Александр",
            patronymic="Анатольевич",
            birth_date=date(1961, 9, 3),
            address_as="Александр Анатольевич",
            preferences=(
                "Обращаться по имени-отчеству. Тревожится, когда не видит деньги; лучше "
                "пошагово показывать в приложении, чем объяснять устройство продукта."
            ),
            phones=["+7 925 310-44-86"],
            emails=["belov.aa@example.com"],
        )
        contract = product_create(
            client=client,
            kind="brokerage",
            name="Договор «Складская недвижимость»",
            number="ДУ-2023-118406",
            provider="УК «Вершина Капитал»",
            opened_on=date(2023, 5, 17),
            details={"tariff": "Инвестиционный"},
        )
        product_create(
            client=client,
            kind="fund_units",
            parent=contract,
            name="ЗПИФ «Складская недвижимость»",
            number="ЛС-ЗП-118406",
            provider="УК «Вершина Капитал»",
            opened_on=date(2023, 5, 18),
            details={"fund_type": "zpif", "units": "40", "value_rub": "436800.00"},
        )
        product_create(
            client=client,
            kind="fund_units",
            parent=contract,
            name="БПИФ «Денежный рынок»",
            number="ЛС-БП-118406",
            provider="УК «Вершина Капитал»",
            opened_on=date(2023, 8, 1),
            details={"fund_type": "bpif", "units": "2871.4", "value_rub": "38944.12"},
        )
        product_create(
            client=client,
            kind="bank_account",
            name="Текущий счёт",
            number="40817810500001184063",
            provider="Банк «Меридиан»",
            details={"currency": "RUB", "balance": "15230.00"},
        )
        self.closed_case(
            actor=broker,
            client=client,
            subject="Покупка паёв ЗПИФ «Складская недвижимость»",
            topic="Дивиденды и выплаты",
            channel=ChannelKind.PHONE,
            at=self.ago(days=190, hours=2),
            note="Консультация по покупке паёв и графику выплат дохода.",
            reply="Рассказали о выплатах раз в квартал и о размещении свободных средств в "
            "БПИФ «Денежный рынок».",
        )
        self.phone_case(
            actor=broker,
            client=client,
            subject="Не пришли дивиденды по «Складской недвижимости»",
            topic="Дивиденды и выплаты",
            at=self.ago(minutes=25),
            summary="Клиент встревожен: не видит дивиденды ни в банке, ни в приложении.",
            note=(
                "«Где мои деньги и почему я их не вижу?» Ожидал выплату на счёт в банке. "
                "Проверить: свободные средства автоматически размещаются в БПИФ «Денежный "
                "рынок» — показать в приложении: «Складская недвижимость» → «Активы "
                "договора». Если нужно — оформить вывод на счёт."
            ),
        )
        return client

    def story_001_court(self) -> Client:
        """Story 001: a loan in court collection; the answer needs the legal department."""
        mfo = self.staff["mfo"]
        client = client_create(
            last_name="Соколов",
            first_name="Дмитрий",
            patronymic="Павлович",
            birth_date=date(1988, 1, 27),
            address_as="Дмитрий Павлович",
            preferences="Занят днём, просит не звонить до 18:00; ответы удобнее получать в ЛК.",
            phones=["+7 912 574-03-61"],
            emails=["d.sokolov88@example.com"],
        )
        product_create(
            client=client,
            kind="loan",
            name="Заём «До зарплаты»",
            number="З-2024-0158843",
            provider="МФК «Светлый займ»",
            opened_on=date(2024, 2, 9),
            details={
                "principal": "25000.00",
                "outstanding": "38640.00",
                "rate_percent": "292.00",
                "court_status": "claim_filed",
                "court_case_number": "2-3187/2025",
                "court_name": "Судебный участок № 54 Ленинского района г. Ижевска",
            },
        )
        self.closed_case(
            actor=mfo,
            client=client,
            subject="Реквизиты для погашения займа",
            topic="Погашение займа",
            channel=ChannelKind.PORTAL,
            at=self.ago(days=75),
            client_text="Пришлите, пожалуйста, реквизиты для погашения займа.",
            note="Реквизиты отправлены в ЛК.",
            reply="Реквизиты для погашения направлены в личный кабинет.",
        )
        case = self.phone_case(
            actor=mfo,
            client=client,
            subject="Сумма долга и стадия судебного взыскания по займу",
            topic="Судебное взыскание",
            at=self.ago(days=3, hours=9),
            summary="Уточняет детали по займу в судебном взыскании; нужна информация юристов.",
            note=(
                "Клиент спрашивает, какая сумма взыскивается по иску и можно ли погасить долг "
                "до решения суда. Данных в КЦ нет — запрос в юридический отдел. По регламенту "
                "клиенту предложено перезвонить через два рабочих дня; по голосу — "
                "разочарован."
            ),
        )
        handoff_send(
            actor=mfo,
            case=case,
            department=self.ref.departments["legal"],
            question=(
                "Дело 2-3187/2025: какая сумма заявлена в иске, есть ли дата заседания и "
                "можно ли погасить долг до решения без судебных расходов?"
            ),
            now=self.ago(days=3, hours=8, minutes=50),
        )
        return client

    def story_001_charges(self) -> Client:
        """Story 001, second call: card charges the client blames on us — a subscription."""
        mfo = self.staff["mfo"]
        client = client_create(
            last_name="Миронова",
            first_name="Татьяна",
            patronymic="Викторовна",
            birth_date=date(1957, 6, 30),
            address_as="Татьяна Викторовна",
            preferences="Говорить медленно и по шагам; пугается незнакомых терминов.",
            phones=["+7 987 216-59-04"],
        )
        product_create(
            client=client,
            kind="loan",
            name="Заём «Первый»",
            number="З-2023-0097125",
            provider="МФК «Светлый займ»",
            status="closed",
            opened_on=date(2023, 10, 4),
            details={"principal": "7000.00", "outstanding": "0.00", "rate_percent": "0.00"},
        )
        self.phone_case(
            actor=mfo,
            client=client,
            subject="Непонятные списания с карты по 399 ₽",
            topic="Непонятные списания",
            at=self.ago(minutes=40),
            summary="Клиентка в панике: с карты списывают деньги, думает, что это наш заём.",
            note=(
                "С карты другого банка трижды списали по 399 ₽ с пометкой «KINOPOTOK*SUB». "
                "Клиентка уверена, что это мы. Проверила: заём погашен в 2023 году, наших "
                "списаний нет. Похоже на подписку онлайн-кинотеатра — дать пошаговый план, "
                "как отключить."
            ),
        )
        return client
