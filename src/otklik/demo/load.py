"""Synthetic load: many clients and cases, fast, for benchmarks and capacity checks.

Unlike the demo this bypasses the services: rows go in with batched multi-row inserts
(`executemany`; on PostgreSQL `COPY … FROM STDIN`), one transaction per batch, with
explicit primary keys so cases can point at clients without reading anything back. The data
follows the shape of real traffic: five lines of business, most cases long closed, a few
per cent open, some of them overdue, two years of history. Search keys are written exactly
as `client_search_terms` would compute them, so search behaves as on real data.
"""

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.cases.models import Case, CaseEvent, CaseStatus, EventKind
from otklik.clients.models import (
    ChannelKind,
    Client,
    ClientSearchTerm,
    ContactPoint,
    Product,
    ProductKind,
    Reachability,
    Segment,
)
from otklik.common.luhn import luhn_complete
from otklik.common.text import normalize
from otklik.demo import names
from otklik.demo.reference import (
    BANK_CHAT,
    BROKER,
    MFO,
    PREMIUM,
    TELECOM,
    TOPICS,
    reference_data_ensure,
)

HISTORY_DAYS = 730
RECENT_DAYS = 14
OPERATORS_PER_TEAM = 20

# Line of business → (share of clients, share of their cases' channels)
LINES: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {
    BROKER: (0.20, (("phone", 0.6), ("email", 0.15), ("portal", 0.2), ("chat", 0.05))),
    BANK_CHAT: (0.35, (("chat", 0.75), ("phone", 0.15), ("messenger", 0.1))),
    PREMIUM: (0.05, (("phone", 0.7), ("chat", 0.2), ("messenger", 0.1))),
    MFO: (0.20, (("phone", 0.55), ("portal", 0.3), ("chat", 0.1), ("office", 0.05))),
    TELECOM: (0.20, (("phone", 0.5), ("chat", 0.3), ("portal", 0.15), ("office", 0.05))),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "Закрытие ИИС": ("Закрыть ИИС", "Перевести ИИС к другому брокеру", "Закрытие ИИС онлайн"),
    "Дивиденды и выплаты": ("Не пришли дивиденды", "Когда выплата купона", "Где выплата"),
    "Заблокированные активы": ("Заблокированные паи", "Иностранные бумаги заблокированы"),
    "Налоговый вычет и справки": ("Справка для вычета", "Уведомление в налоговую по ИИС"),
    "Судебное взыскание": ("Стадия судебного взыскания", "Сумма долга по иску"),
    "Погашение займа": ("Продлить заём", "Платёж не отразился", "Реквизиты для погашения"),
    "Непонятные списания": ("Непонятное списание с карты", "Списали деньги без причины"),
    "Блокировка карты": ("Карта заблокирована", "Заблокировать утерянную карту"),
    "Ограничения по операциям": ("Не проходит оплата", "Снять ограничение по операциям"),
    "Переводы и платежи": ("Перевод не дошёл", "Вернуть ошибочный перевод"),
    "Автообмен валюты": ("Автообмен не сработал", "Подключить автообмен"),
    "Перевыпуск карты": ("Перевыпуск карты", "Карту изъял банкомат"),
    "Адрес доставки карты": ("Изменить адрес доставки карты", "Где моя карта"),
    "Пакет услуг и критерии бесплатности": ("Списали плату за пакет", "Критерии бесплатности"),
    "Тарифы и услуги связи": ("Сменить тариф", "Не получается сменить тариф"),
    "Баланс и списания (связь)": ("Пропали деньги с баланса", "Списание за подписку"),
    "Мобильный интернет": ("Не работает интернет", "Резерв средств за интернет"),
    "Паевые фонды": ("Погасить паи фонда", "Стоимость пая"),
    "Займы": ("Оформить заём", "Условия займа"),
    "Списания по карте": ("Непонятное списание по карте", "Двойное списание по карте"),
}

OPEN_MIX = (
    (CaseStatus.NEW, 0.25),
    (CaseStatus.IN_PROGRESS, 0.35),
    (CaseStatus.WAITING_DEPARTMENT, 0.15),
    (CaseStatus.WAITING_CLIENT, 0.15),
    (CaseStatus.ANSWERED, 0.10),
)
PRIORITY_MIX = ((1, 0.10), (2, 0.70), (3, 0.15), (4, 0.05))


@dataclass
class LoadStats:
    """Rows written per table and the time it took."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


class _BulkInserter:
    """Batched INSERTs of the given columns; every other column gets its model default.

    Only the listed columns are adapted by the caller; defaults are prepared once, so a
    field added to the model later (with a default) does not break the generator.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        by_name = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for f in model._meta.concrete_fields if f.attname not in columns]
        rest = [f for f in rest if not (f.primary_key and f.attname not in columns)]
        self.defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
        quote = connection.ops.quote_name
        cols = [by_name[c].column for c in columns] + [f.column for f in rest]
        # Identifiers come from model metadata, quoted; values go as parameters.
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            quote(model._meta.db_table),
            ", ".join(quote(c) for c in cols),
            ", ".join(["%s"] * len(cols)),
        )
        # PostgreSQL: COPY … FROM STDIN, several times faster than multi-row INSERTs at
        # millions of rows (10 M interactions in minutes, docs/benchmarks.md).
        self.copy_sql = "COPY {} ({}) FROM STDIN".format(
            quote(model._meta.db_table), ", ".join(quote(c) for c in cols)
        )
        self.rows: list[tuple] = []
        self.written = 0

    def add(self, row: tuple) -> None:
        self.rows.append(row + self.defaults)

    def flush(self) -> None:
        if not self.rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, self.rows)
        self.written += len(self.rows)
        self.rows = []


def _flush(*inserters: _BulkInserter) -> None:
    """Write pending rows, parents first, in one transaction."""
    with transaction.atomic():
        for inserter in inserters:
            inserter.flush()


def _weighted(rng: random.Random, mix: Sequence[tuple[object, float]], n: int) -> list:
    values, weights = zip(*mix, strict=True)
    return rng.choices(values, weights=weights, k=n)


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _datetime_adapter() -> Callable[[int], object]:
    """Seconds since the epoch → what the backend wants for a DateTimeField."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    if connection.vendor != "sqlite":
        return lambda seconds: epoch + timedelta(seconds=seconds)
    # Django keeps naive UTC text on SQLite; str(datetime) costs ~6 µs, which is most of
    # the generator's time at a million rows, so format from a per-day cache instead.
    days: dict[int, str] = {}

    def adapt(seconds: int) -> str:
        day, rest = divmod(seconds, 86400)
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = (epoch + timedelta(days=day)).strftime("%Y-%m-%d")
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{prefix} {hours:02d}:{minutes:02d}:{secs:02d}"

    return adapt


def search_terms_for(
    *,
    last: str,
    first: str,
    patronymic: str,
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    numbers: Iterable[str] = (),
    pans: Iterable[str] = (),
    msisdns: Iterable[str] = (),
) -> set[str]:
    """The same keys `clients.services.client_search_terms` derives from a saved client."""
    last, first, middle = normalize(last), normalize(first), normalize(patronymic)
    terms = {t for t in (last, first, middle) if t}
    terms.add(normalize(f"{last} {first} {middle}"))
    terms.add(normalize(f"{first} {middle}"))
    terms.add(normalize(f"{first} {last}"))
    terms.update(phones)  # already 10 digits
    terms.update(normalize(e) for e in emails)
    terms.update(normalize(n).replace(" ", "") for n in numbers)
    terms.update(pans)
    terms.update(msisdns)
    return {t[:200] for t in terms if t}


def _operators_ensure(teams) -> dict[str, list[int]]:
    """Twenty synthetic operators per team (no usable password) to own the cases."""
    wanted = {}
    for index, (_name, team) in enumerate(sorted(teams.items())):
        for n in range(1, OPERATORS_PER_TEAM + 1):
            wanted[f"load-{index + 1}-{n:02d}"] = team
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    User.objects.bulk_create(
        [
            User(
                username=username,
                password=make_password(None),
                role=Role.OPERATOR,
                team=team,
                first_name=username,
                is_active=True,
            )
            for username, team in wanted.items()
            if username not in existing
        ]
    )
    by_team: dict[str, list[int]] = {name: [] for name in teams}
    for user in User.objects.filter(username__in=wanted).select_related("team"):
        by_team[user.team.name].append(user.pk)
    return by_team


def generate_load(
    *,
    clients: int,
    cases: int,
    seed: int = 1,
    batch_size: int = 5000,
    now: datetime | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> LoadStats:
    """Insert `clients` synthetic clients and `cases` cases spread over two years."""
    rng = random.Random(seed)
    now = now or timezone.now()
    stats = LoadStats()
    ref = reference_data_ensure()
    operators = _operators_ensure(ref.teams)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-1000000")  # 1 GB page cache for this load
    adapt_dt = _datetime_adapter()
    now_s = int(now.timestamp())

    def phase(name: str):
        return _Phase(stats, name, log)

    # --- clients, contacts, products, search keys --------------------------------
    first_client = _next_id(Client)
    line_names = list(LINES)
    client_lines = _weighted(rng, [(name, LINES[name][0]) for name in line_names], clients)
    client_ins = _BulkInserter(
        Client,
        [
            "id",
            "last_name",
            "first_name",
            "patronymic",
            "birth_date",
            "segment",
            "address_as",
            "created_at",
        ],
    )
    contact_ins = _BulkInserter(
        ContactPoint,
        [
            "client_id",
            "kind",
            "value",
            "is_primary",
            "reachability",
            "reachability_note",
            "updated_at",
        ],
    )
    product_ins = _BulkInserter(
        Product,
        ["client_id", "kind", "name", "number", "status", "provider", "opened_on", "details"],
    )
    term_ins = _BulkInserter(ClientSearchTerm, ["client_id", "term"])
    client_group = (client_ins, contact_ins, product_ins, term_ins)
    adapt_json = Product._meta.get_field("details").get_db_prep_value
    # Phones: distinct 10-digit mobile numbers from a shuffled range.
    phone_base = rng.randrange(0, 10**8)
    phone_step = 7919  # coprime with 10**9: consecutive clients get scattered numbers
    with phase("clients+contacts+products+search terms"):
        for i in range(clients):
            cid = first_client + i
            line = client_lines[i]
            female = rng.random() < 0.52
            first = rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES)
            middle = rng.choice(names.PATRONYMICS)[1 if female else 0]
            last = names.surname_for(rng.choice(names.SURNAMES), female=female)
            birth = date(rng.randrange(1945, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
            # Clients predate the two years of cases (by up to three more years).
            created = now_s - HISTORY_DAYS * 86400 - rng.randrange(3 * 365 * 86400)
            segment = Segment.PREMIUM if line == PREMIUM else Segment.MASS
            client_ins.add(
                (
                    cid,
                    last,
                    first,
                    middle,
                    str(birth),
                    segment,
                    f"{first} {middle}",
                    adapt_dt(created),
                )
            )
            phone = f"9{(phone_base + (first_client + i) * phone_step) % 10**9:09d}"
            limited = rng.random() < 0.01
            contact_ins.add(
                (
                    cid,
                    ChannelKind.PHONE,
                    f"+7{phone}",
                    True,
                    Reachability.LIMITED if limited else Reachability.REACHABLE,
                    "за границей: входящие с коротких номеров не проходят" if limited else "",
                    adapt_dt(created),
                )
            )
            emails = []
            if rng.random() < 0.3:
                emails.append(f"{names.translit(last)}.{cid}@example.com")
                contact_ins.add(
                    (
                        cid,
                        ChannelKind.EMAIL,
                        emails[0],
                        False,
                        Reachability.REACHABLE,
                        "",
                        adapt_dt(created),
                    )
                )
            numbers, pans, msisdns = [], [], []
            if rng.random() < 0.8:
                kind, name, number, provider, details = _product_for(line, rng, cid, phone)
                if kind == ProductKind.CARD:
                    pans.append(details["pan"])
                elif kind == ProductKind.TELECOM_TARIFF:
                    msisdns.append(details["msisdn"])
                if number:
                    numbers.append(number)
                opened = datetime.fromtimestamp(created, UTC).date()
                product_ins.add(
                    (
                        cid,
                        kind,
                        name,
                        number,
                        "active",
                        provider,
                        str(opened),
                        adapt_json(details, connection),
                    )
                )
            for term in sorted(
                search_terms_for(
                    last=last,
                    first=first,
                    patronymic=middle,
                    phones=[phone],
                    emails=emails,
                    numbers=numbers,
                    pans=pans,
                    msisdns=msisdns,
                )
            ):
                term_ins.add((cid, term))
            if len(client_ins.rows) >= batch_size:
                _flush(*client_group)
        _flush(*client_group)
    stats.rows.update(
        {
            "clients": client_ins.written,
            "contacts": contact_ins.written,
            "products": product_ins.written,
            "search terms": term_ins.written,
        }
    )

    # --- cases and their first event -----------------------------------------------
    topics_by_team: dict[str, list[tuple[int, str]]] = {name: [] for name in LINES}
    for topic_name, team_name in TOPICS.items():
        topics_by_team[team_name].append((ref.topics[topic_name].pk, topic_name))
    team_ids = {name: team.pk for name, team in ref.teams.items()}
    first_case = _next_id(Case)
    case_ins = _BulkInserter(
        Case,
        [
            "id",
            "client_id",
            "subject",
            "topic_id",
            "status",
            "priority",
            "channel",
            "team_id",
            "owner_id",
            "created_at",
            "updated_at",
            "due_at",
            "resolved_at",
            "closed_at",
            "is_open",
        ],
    )
    event_ins = _BulkInserter(CaseEvent, ["case_id", "actor_id", "kind", "new_value", "created_at"])
    # Cases arrive in time order (as in production), so time-leading indexes append.
    span = HISTORY_DAYS * 86400
    times = sorted(now_s - rng.randrange(span) for _ in range(cases))
    priorities = _weighted(rng, PRIORITY_MIX, cases)
    frequent = max(1, clients // 50)
    channel_mix = {line: LINES[line][1] for line in LINES}
    with phase("cases+events"):
        for n, created in enumerate(times):
            case_id = first_case + n
            # A fifth of the traffic comes from 2% of clients (the frequent callers).
            index = rng.randrange(frequent) if rng.random() < 0.2 else rng.randrange(clients)
            line = client_lines[index]
            topic_id, topic_name = rng.choice(topics_by_team[line])
            channel = _pick(rng, channel_mix[line])
            age = now_s - created
            open_share = 0.55 if age < RECENT_DAYS * 86400 else 0.055
            is_open = rng.random() < open_share
            owner = rng.choice(operators[line])
            resolved = closed = None
            if is_open:
                status = _pick(rng, OPEN_MIX)
                if status == CaseStatus.NEW:
                    owner = None
                updated = created + rng.randrange(0, 3600)
            else:
                handled = created + rng.randrange(300, 5 * 86400)
                resolved = min(handled, now_s)
                if rng.random() < 0.85 and handled + 3 * 86400 < now_s:
                    status, closed = CaseStatus.CLOSED, handled + 3 * 86400
                else:
                    status = CaseStatus.RESOLVED
                updated = closed or resolved
            hours = 24 if channel == ChannelKind.PORTAL or line == MFO else 72
            subject = rng.choice(SUBJECTS[topic_name])
            case_ins.add(
                (
                    case_id,
                    first_client + index,
                    subject,
                    topic_id,
                    status,
                    priorities[n],
                    channel,
                    team_ids[line],
                    owner,
                    adapt_dt(created),
                    adapt_dt(updated),
                    adapt_dt(created + hours * 3600),
                    adapt_dt(resolved) if resolved else None,
                    adapt_dt(closed) if closed else None,
                    is_open,
                )
            )
            event_ins.add((case_id, owner, EventKind.CREATED, subject, adapt_dt(created)))
            if len(case_ins.rows) >= batch_size:
                _flush(case_ins, event_ins)
                if case_ins.written % 100_000 < batch_size:
                    log(f"  … {case_ins.written:,} cases")
        _flush(case_ins, event_ins)
    stats.rows.update({"cases": case_ins.written, "case events": event_ins.written})

    with phase("sequences+analyze"):
        _reset_sequences([Client, Case])
        with connection.cursor() as cursor:
            # Fresh statistics so the planner knows the new data (as a nightly job would).
            cursor.execute("ANALYZE")
    return stats


def _pick(rng: random.Random, mix: Sequence[tuple[object, float]]):
    roll = rng.random() * sum(w for _, w in mix)
    for value, weight in mix:
        roll -= weight
        if roll < 0:
            return value
    return mix[-1][0]


def _product_for(line: str, rng: random.Random, cid: int, phone: str):
    """One typical product for a client of `line` (details valid for its schema)."""
    if line == BROKER:
        return (
            ProductKind.IIS,
            "ИИС (тип 3)",
            f"ИИС-{2020 + cid % 6}/{cid:07d}",
            "УК «Вершина Капитал»",
            {"iis_type": 3, "deduction_type": "", "tax_deduction_lost": False},
        )
    if line in (BANK_CHAT, PREMIUM):
        level = "Platinum" if line == PREMIUM else "Классическая"
        pan = luhn_complete(f"220015{cid:09d}")
        return (
            ProductKind.CARD,
            f"Дебетовая карта {level}",
            "",
            "Банк «Меридиан»",
            {
                "pan": pan,
                "payment_system": "Мир",
                "level": level,
                "package": "",
                "expires": f"{rng.randrange(1, 13):02d}/{rng.randrange(26, 31)}",
                "package_free_criteria": "",
            },
        )
    if line == MFO:
        principal = rng.choice((5000, 10000, 15000, 30000))
        court = "claim_filed" if rng.random() < 0.05 else "none"
        return (
            ProductKind.LOAN,
            "Заём «До зарплаты»",
            f"З-{2023 + cid % 3}-{cid:07d}",
            "МФК «Светлый займ»",
            {
                "principal": f"{principal}.00",
                "outstanding": f"{principal * 0.8:.2f}",
                "rate_percent": None,
                "court_status": court,
                "court_case_number": "",
                "court_name": "",
            },
        )
    return (
        ProductKind.TELECOM_TARIFF,
        "«Безлимит Плюс»",
        f"ЛС-{cid:010d}",
        "Оператор связи «Волна»",
        {
            "msisdn": phone,
            "balance": f"{rng.randrange(0, 1500)}.00",
            "reserved": "0.00",
            "monthly_fee": "650.00",
            "internet_billing": "",
        },
    )


def _reset_sequences(model_list: list[type[models.Model]]) -> None:
    """Explicit ids were inserted: move PostgreSQL sequences past them (no-op on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


class _Phase:
    def __init__(self, stats: LoadStats, name: str, log: Callable[[str], None]):
        self.stats, self.name, self.log = stats, name, log

    def __enter__(self):
        self.log(f"{self.name} …")
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.stats.seconds[self.name] = time.perf_counter() - self.started
        return False
