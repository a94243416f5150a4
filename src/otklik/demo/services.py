"""The demo: the five stories' clients and cases, the staff who work them, some filler.

Everything is written through the domain services, so history, search keys and
timelines are exactly what real use would produce. Names, numbers and companies are
invented. Loading is idempotent: a second run finds the demo and changes nothing.
"""

import hashlib
import hmac
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from otklik.accounts.models import ApiToken, Role, User
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseStatus,
    Direction,
    MessageVisibility,
    Priority,
)
from otklik.cases.services import (
    case_transition,
    case_update,
    interaction_register,
    message_add,
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
from otklik.common.luhn import luhn_complete
from otklik.demo import names
from otklik.demo.reference import (
    BANK_CHAT,
    BROKER,
    MFO,
    PREMIUM,
    TELECOM,
    Reference,
    reference_data_ensure,
)
from otklik.handoffs.services import handoff_send


@dataclass(frozen=True)
class DemoLogin:
    """One demo account: how to log in and who it is."""

    role: str
    login: str
    password: str
    first_name: str
    last_name: str
    team: str = ""
    department: str = ""
    superuser: bool = False


# Memorable logins; the password is always "otklik-" + the login.
DEMO_STAFF: tuple[DemoLogin, ...] = (
    DemoLogin(Role.OPERATOR, "operator", "otklik-operator", "Анна", "Морозова", team=BANK_CHAT),
    DemoLogin(Role.OPERATOR, "chat", "otklik-chat", "Игорь", "Смирнов", team=BANK_CHAT),
    DemoLogin(Role.OPERATOR, "broker", "otklik-broker", "Ольга", "Сергеева", team=BROKER),
    DemoLogin(Role.SENIOR_OPERATOR, "senior", "otklik-senior", "Елена", "Кравцова", team=BROKER),
    DemoLogin(Role.OPERATOR, "mfo", "otklik-mfo", "Дарья", "Полякова", team=MFO),
    DemoLogin(Role.OPERATOR, "telecom", "otklik-telecom", "Светлана", "Гусева", team=TELECOM),
    DemoLogin(
        Role.PERSONAL_MANAGER, "manager", "otklik-manager", "Евгений", "Ракитин", team=PREMIUM
    ),
    DemoLogin(
        Role.SPECIALIST, "security", "otklik-security", "Роман", "Тихонов", department="security"
    ),
    DemoLogin(
        Role.SPECIALIST,
        "treasury",
        "otklik-treasury",
        "Марина",
        "Лукьянова",
        department="treasury",
    ),
    DemoLogin(Role.SPECIALIST, "legal", "otklik-legal", "Павел", "Гордеев", department="legal"),
    DemoLogin(Role.SUPERVISOR, "supervisor", "otklik-supervisor", "Ирина", "Волкова"),
    DemoLogin(Role.ADMIN, "admin", "otklik-admin", "Админ", "Откликов", superuser=True),
)

DEMO_INTEGRATION_NAME = "Демо: интеграция телефонии"
# The first story client's phone marks a loaded demo (see demo_is_loaded).
MARKER_PHONE = "+79164821735"
FILLER_CLIENTS = 32


@dataclass
class DemoResult:
    created: bool
    logins: tuple[DemoLogin, ...]
    token: str
    clients: int = 0
    cases: int = 0
    story_clients: dict[str, Client] = field(default_factory=dict)


def demo_is_loaded() -> bool:
    return (
        User.objects.filter(username="operator").exists()
        and ContactPoint.objects.filter(value=MARKER_PHONE).exists()
    )


def demo_api_token_raw() -> str:
    """The demo operator's API token, derived from SECRET_KEY so every run can print it.

    Only for the demo: a deployment with its own SECRET_KEY gets a token nobody else
    knows, and real integrations use `api_token_create` (random, shown once).
    """
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"otklik-demo-operator-token", hashlib.sha256
    ).hexdigest()
    return f"otk_demo{digest[:40]}"


def _demo_token_ensure(user: User) -> str:
    raw = demo_api_token_raw()
    ApiToken.objects.get_or_create(
        key_hash=ApiToken.hash(raw),
        defaults={"user": user, "name": DEMO_INTEGRATION_NAME, "prefix": raw[4:12]},
    )
    return raw


def _staff_ensure(ref: Reference) -> dict[str, User]:
    existing = {u.username: u for u in User.objects.filter(username__in=_logins())}
    missing = [spec for spec in DEMO_STAFF if spec.login not in existing]
    # Password hashing is deliberately slow (PBKDF2); hash in parallel, hashlib frees the GIL.
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = list(pool.map(lambda spec: make_password(spec.password), missing))
    for spec, password in zip(missing, hashes, strict=True):
        existing[spec.login] = User.objects.create(
            username=spec.login,
            password=password,
            first_name=spec.first_name,
            last_name=spec.last_name,
            role=spec.role,
            team=ref.teams[spec.team] if spec.team else None,
            department=ref.departments[spec.department] if spec.department else None,
            email=f"{spec.login}@otklik.example.com",
            is_staff=spec.superuser,
            is_superuser=spec.superuser,
        )
    return existing


def _logins() -> list[str]:
    return [spec.login for spec in DEMO_STAFF]


@transaction.atomic
def demo_load(*, now: datetime | None = None, seed: int = 2024) -> DemoResult:
    """Load the demo unless it is there already; always return the logins and token."""
    ref = reference_data_ensure()
    if demo_is_loaded():
        staff = _staff_ensure(ref)
        demo_extras_load(staff=staff)
        return DemoResult(
            created=False, logins=DEMO_STAFF, token=_demo_token_ensure(staff["operator"])
        )
    staff = _staff_ensure(ref)
    token = _demo_token_ensure(staff["operator"])
    builder = _DemoBuilder(ref=ref, staff=staff, now=now or timezone.now(), seed=seed)
    clients_before, cases_before = Client.objects.count(), Case.objects.count()
    stories = builder.build()
    demo_extras_load(staff=staff)
    return DemoResult(
        created=True,
        logins=DEMO_STAFF,
        token=token,
        clients=Client.objects.count() - clients_before,
        cases=Case.objects.count() - cases_before,
        story_clients=stories,
    )


def demo_extras_load(*, staff: dict[str, User]) -> None:
    """The parts of the demo other apps own; each loader is idempotent, so a demo loaded
    by an older version gains what newer versions add on the next `make run`."""
    from otklik.accounts.services import supervisor_grant_admin
    from otklik.actions.demo import load_demo_actions
    from otklik.chat.demo import load_demo_chat
    from otklik.knowledge.demo import load_demo_knowledge
    from otklik.orders.demo import load_demo_orders
    from otklik.portal.demo import load_demo_portal

    supervisor_grant_admin(user=staff["supervisor"])
    load_demo_knowledge()
    load_demo_portal()
    load_demo_orders()
    load_demo_actions()
    load_demo_chat()


def _aware(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


class _DemoBuilder:
    """Builds the story scenes one by one; `ago()` keeps every timestamp relative to now."""

    def __init__(self, *, ref: Reference, staff: dict[str, User], now: datetime, seed: int):
        self.ref = ref
        self.staff = staff
        self.now = now
        self.rng = random.Random(seed)
        self._pan_seq = 0

    # -- helpers ------------------------------------------------------------------

    def ago(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def topic(self, name: str):
        return self.ref.topics[name]

    def pan(self, prefix: str) -> str:
        self._pan_seq += 1
        body = f"{prefix}{self.rng.randrange(10**8):08d}{self._pan_seq % 10}"
        return luhn_complete(body[:15])

    def closed_case(
        self,
        *,
        actor: User,
        client: Client,
        subject: str,
        topic: str,
        channel: str,
        at: datetime,
        note: str,
        reply: str,
        client_text: str = "",
        close: bool = True,
    ) -> Case:
        """An earlier case with its contact, a note, the answer, resolved (and closed)."""
        interaction = interaction_register(
            actor=actor,
            client=client,
            channel=channel,
            new_case_subject=subject,
            topic=self.topic(topic),
            summary=note,
            now=at,
        )
        case = interaction.case
        if client_text:
            message_add(
                actor=None,
                case=case,
                body=client_text,
                visibility=MessageVisibility.PUBLIC,
                author_kind=AuthorKind.CLIENT,
                interaction=interaction,
                now=at + timedelta(minutes=1),
            )
        message_add(
            actor=actor,
            case=case,
            body=note,
            visibility=MessageVisibility.INTERNAL,
            now=at + timedelta(minutes=3),
        )
        message_add(
            actor=actor,
            case=case,
            body=reply,
            visibility=MessageVisibility.PUBLIC,
            now=at + timedelta(minutes=9),
        )
        case_transition(
            actor=actor, case=case, to_status=CaseStatus.RESOLVED, now=at + timedelta(minutes=10)
        )
        if close:
            case_transition(
                actor=actor, case=case, to_status=CaseStatus.CLOSED, now=at + timedelta(days=3)
            )
        return case

    def phone_case(
        self,
        *,
        actor: User,
        client: Client,
        subject: str,
        topic: str,
        at: datetime,
        summary: str,
        note: str,
        priority: int = Priority.NORMAL,
        channel: str = ChannelKind.PHONE,
    ) -> Case:
        """A call just taken: the contact, the operator's note; the case is in progress."""
        interaction = interaction_register(
            actor=actor,
            client=client,
            channel=channel,
            new_case_subject=subject,
            topic=self.topic(topic),
            priority=priority,
            summary=summary,
            now=at,
            external_ref=f"call-{at:%Y%m%d%H%M}-{client.pk}",
        )
        message_add(
            actor=actor,
            case=interaction.case,
            body=note,
            visibility=MessageVisibility.INTERNAL,
            interaction=interaction,
            now=at + timedelta(minutes=4),
        )
        return interaction.case

    def written_case(
        self,
        *,
        actor: User,
        client: Client,
        subject: str,
        topic: str,
        at: datetime,
        text: str,
        channel: str = ChannelKind.CHAT,
        priority: int = Priority.NORMAL,
    ) -> Case:
        """A chat/portal/e-mail request as it arrived: the client's words; status «new»."""
        interaction = interaction_register(
            actor=actor,
            client=client,
            channel=channel,
            new_case_subject=subject,
            topic=self.topic(topic),
            priority=priority,
            summary="",
            now=at,
            external_ref=f"{channel}-{at:%Y%m%d%H%M%S}-{client.pk}",
        )
        message_add(
            actor=None,
            case=interaction.case,
            body=text,
            visibility=MessageVisibility.PUBLIC,
            author_kind=AuthorKind.CLIENT,
            interaction=interaction,
            now=at,
        )
        return interaction.case

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
        handoff_send(
            actor=manager,
            case=fx,
            department=self.ref.departments["treasury"],
            question="Провести обмен 50% зарплаты RUB→USD по курсу на дату зачисления: "
            "«Автообмен» не сработал из-за проверки остатка.",
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
