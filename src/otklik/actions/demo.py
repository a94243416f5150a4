"""The demo action catalogue and policy, following the stories (002, 003, 004).

`load_demo_actions()` is idempotent: action types are matched by code, and an action's
rules are written only when it has none, so an administrator's edits survive a reload.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from otklik.accounts.models import Department, Role
from otklik.actions.models import ActionType, Effect, ExecutorKind, PolicyRule

OP, SENIOR, PM = Role.OPERATOR, Role.SENIOR_OPERATOR, Role.PERSONAL_MANAGER
SUPERVISOR = Role.SUPERVISOR
FRONT = [OP, SENIOR, PM, SUPERVISOR]
VOICE = ["phone", "office"]
WRITTEN = ["chat", "messenger", "portal", "email"]
CALL_900 = "только по звонку на 900 или в офисе"

#: The English twins of the catalogue's texts (names, why, what instead), by Russian text.
ENGLISH = {
    "Снять проверку правомерности операций": "Lift the transaction legitimacy check",
    "Снять запрет операций за рубежом": "Lift the ban on operations abroad",
    "Снять арест по решению суда": "Lift a court-ordered arrest",
    "Снять блокировку по просьбе клиента": "Lift a block set at the client's request",
    "Снять заморозку активов (санкции)": "Lift an asset freeze (sanctions)",
    "Отключить услугу": "Disable a service",
    "Вернуть списание на баланс": "Refund a charge to the balance",
    "Сменить тарифный план": "Change the tariff plan",
    "Провести автообмен по курсу на дату": "Run the auto exchange at the rate of a date",
    "Перевыпустить карту": "Reissue the card",
    "Исправить адрес доставки карты": "Correct the card delivery address",
    "В чате — только после того, как СБ отметила клиента проверенным": (
        "In chat only after the security service marked the client as verified"
    ),
    "передайте вопрос в СБ (кнопка «Передать в подразделение») или попросите клиента "
    "позвонить на 900": "hand the question to the security service («Hand off to a "
    "department») or ask the client to call 900",
    "Арест по решению суда нельзя снять в переписке": (
        "A court-ordered arrest cannot be lifted in writing"
    ),
    CALL_900: "only by a call to 900 or in a branch",
    "Заморозку снимает только юридический отдел по решению регулятора": (
        "Only the legal department lifts a freeze, on the regulator's decision"
    ),
    "передайте вопрос в юридический отдел": "hand the question to the legal department",
    "Оператор возвращает до 3 000 ₽": "An operator refunds up to 3,000 ₽",
    "больше 3 000 ₽ — через старшего оператора": "more than 3,000 ₽: through a senior operator",
    "Только персональный менеджер клиента": "Only the client's personal manager",
    "передайте вопрос персональному менеджеру клиента": (
        "hand the question to the client's personal manager"
    ),
    "Адрес можно исправить в течение 2 ч после заявки": (
        "The address can be corrected within 2 hours of the request"
    ),
    "после изготовления — перевыпуск карты на верный адрес": (
        "once the card is made: reissue it to the right address"
    ),
}


@dataclass
class Rule:
    effect: str
    roles: list
    channels: list
    conditions: dict = field(default_factory=dict)
    message: str = ""
    alternative: str = ""


@dataclass
class Spec:
    code: str
    name: str
    input_kind: str
    product_kinds: list
    executor: str
    rules: list
    restriction_kind: str = ""
    department: str = ""
    limit: Decimal | None = None
    description: str = ""


CATALOGUE: tuple[Spec, ...] = (
    Spec(
        "lift_fraud_check",
        "Снять проверку правомерности операций",
        "lift_restriction",
        [],
        ExecutorKind.WEBHOOK,
        restriction_kind="fraud_check",
        description="История 002: в чате — после того, как СБ отметила клиента проверенным.",
        rules=[
            Rule(Effect.ALLOW, [OP, SENIOR, PM], VOICE),
            Rule(
                Effect.ALLOW,
                [OP, SENIOR, PM],
                WRITTEN,
                {"client_flag": "security_verified"},
                message="В чате — только после того, как СБ отметила клиента проверенным",
                alternative="передайте вопрос в СБ (кнопка «Передать в подразделение») "
                "или попросите клиента позвонить на 900",
            ),
        ],
    ),
    Spec(
        "lift_foreign_operations",
        "Снять запрет операций за рубежом",
        "lift_restriction",
        [],
        ExecutorKind.WEBHOOK,
        restriction_kind="foreign_operations",
        rules=[Rule(Effect.ALLOW, [OP, SENIOR, PM], [*VOICE, "chat", "messenger"])],
    ),
    Spec(
        "lift_court_order",
        "Снять арест по решению суда",
        "lift_restriction",
        [],
        ExecutorKind.HANDOFF,
        restriction_kind="court_order",
        department="legal",
        description="Снимает юридический отдел по документам; оператор только передаёт.",
        rules=[
            Rule(
                Effect.DENY,
                [],
                WRITTEN,
                message="Арест по решению суда нельзя снять в переписке",
                alternative=CALL_900,
            ),
            Rule(Effect.ALLOW, [OP, SENIOR, PM], VOICE),
        ],
    ),
    Spec(
        "lift_client_request",
        "Снять блокировку по просьбе клиента",
        "lift_restriction",
        [],
        ExecutorKind.WEBHOOK,
        restriction_kind="client_request",
        rules=[Rule(Effect.ALLOW, [OP, SENIOR, PM], VOICE)],
    ),
    Spec(
        "lift_sanctions_freeze",
        "Снять заморозку активов (санкции)",
        "lift_restriction",
        [],
        ExecutorKind.HANDOFF,
        restriction_kind="sanctions_freeze",
        department="legal",
        rules=[
            Rule(
                Effect.DENY,
                [],
                [],
                message="Заморозку снимает только юридический отдел по решению регулятора",
                alternative="передайте вопрос в юридический отдел",
            )
        ],
    ),
    Spec(
        "disable_service",
        "Отключить услугу",
        "disable_service",
        ["telecom_service"],
        ExecutorKind.WEBHOOK,
        description="История 004: отключить мобильный интернет, чтобы снять резерв.",
        rules=[
            Rule(Effect.ALLOW, [OP, SENIOR], [*VOICE, "chat"], {"product_status": "active"}),
        ],
    ),
    Spec(
        "refund_charge",
        "Вернуть списание на баланс",
        "refund_charge",
        ["telecom_tariff"],
        ExecutorKind.WEBHOOK,
        limit=Decimal("50000"),
        description="История 004: вернуть ошибочно списанное. До 3 000 ₽ — оператор.",
        rules=[
            Rule(
                Effect.ALLOW,
                [OP],
                VOICE,
                {"amount_lte": 3000},
                message="Оператор возвращает до 3 000 ₽",
                alternative="больше 3 000 ₽ — через старшего оператора",
            ),
            Rule(Effect.ALLOW, [SENIOR, SUPERVISOR], VOICE),
        ],
    ),
    Spec(
        "change_tariff",
        "Сменить тарифный план",
        "change_tariff",
        ["telecom_tariff"],
        ExecutorKind.WEBHOOK,
        rules=[Rule(Effect.ALLOW, [OP, SENIOR], VOICE)],
    ),
    Spec(
        "start_auto_exchange",
        "Провести автообмен по курсу на дату",
        "start_auto_exchange",
        ["bank_service"],
        ExecutorKind.WEBHOOK,
        description="История 003: обмен по курсу на дату, когда клиент ждал зачисления.",
        rules=[
            Rule(
                Effect.ALLOW,
                [PM],
                [*VOICE, "chat"],
                {"is_personal_manager": True},
                message="Только персональный менеджер клиента",
                alternative="передайте вопрос персональному менеджеру клиента",
            ),
        ],
    ),
    Spec(
        "reissue_card",
        "Перевыпустить карту",
        "reissue_card",
        ["card"],
        ExecutorKind.HANDOFF,
        department="product",
        description="История 003: перевыпуск на особых условиях — продуктовое подразделение.",
        rules=[Rule(Effect.ALLOW, [OP, SENIOR, PM], [*VOICE, "chat"])],
    ),
    Spec(
        "correct_delivery_address",
        "Исправить адрес доставки карты",
        "correct_delivery_address",
        ["card"],
        ExecutorKind.WEBHOOK,
        description="История 003: пока карта не ушла на изготовление — в течение 2 ч.",
        rules=[
            Rule(
                Effect.ALLOW,
                [OP, SENIOR, PM],
                [*VOICE, "chat"],
                {"application_age_hours_lte": 2},
                message="Адрес можно исправить в течение 2 ч после заявки",
                alternative="после изготовления — перевыпуск карты на верный адрес",
            )
        ],
    ),
)

DEPARTMENT_NAMES = {"legal": "Юридический отдел", "product": "Продуктовое подразделение"}


def _department(code: str) -> Department | None:
    if not code:
        return None
    department, _ = Department.objects.get_or_create(
        code=code, defaults={"name": DEPARTMENT_NAMES.get(code, code)}
    )
    return department


@transaction.atomic
def load_demo_actions() -> int:
    """Create the demo catalogue and its rules if missing; return how many actions exist."""
    for position, spec in enumerate(CATALOGUE, start=1):
        action, _ = ActionType.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "name_en": ENGLISH.get(spec.name, ""),
                "input_kind": spec.input_kind,
                "product_kinds": spec.product_kinds,
                "restriction_kind": spec.restriction_kind,
                "executor": spec.executor,
                "department": _department(spec.department),
                "limit": spec.limit,
                "description": spec.description,
                "position": position * 10,
            },
        )
        if action.rules.exists():
            _english_twins_fill(action)  # a catalogue loaded before the English twins
            continue
        PolicyRule.objects.bulk_create(
            [
                PolicyRule(
                    action=action,
                    effect=rule.effect,
                    roles=list(rule.roles),
                    channels=list(rule.channels),
                    conditions=rule.conditions,
                    priority=index * 10,
                    message_ru=rule.message,
                    message_en=ENGLISH.get(rule.message, ""),
                    alternative_ru=rule.alternative,
                    alternative_en=ENGLISH.get(rule.alternative, ""),
                )
                for index, rule in enumerate(rule_list(spec), start=1)
            ]
        )
    load_demo_tariffs()
    return ActionType.objects.count()


# The telecom operator's tariffs on sale (story 004: the client moves off the archived
# pay-as-you-go tariff); «change the tariff» offers these instead of a free-text field.
DEMO_TARIFFS = (
    ("Оператор связи «Волна»", "Всё включено S", "350", "5 ГБ в месяц"),
    ("Оператор связи «Волна»", "Всё включено M", "450", "20 ГБ в месяц"),
    ("Оператор связи «Волна»", "Всё включено L", "650", "безлимитный"),
    ("Оператор связи «Волна»", "Для звонков", "200", "1 ГБ в месяц, далее 10 ₽ за 100 МБ"),
)


def load_demo_tariffs() -> None:
    """Create the demo tariff catalogue if missing (idempotent)."""
    from otklik.clients.models import Tariff

    for provider, name, fee, internet in DEMO_TARIFFS:
        Tariff.objects.get_or_create(
            provider=provider,
            name=name,
            defaults={"monthly_fee": fee, "internet_billing": internet},
        )


def rule_list(spec: Spec) -> list[Rule]:
    # Deny rules first so the table reads like the policy: exceptions, then permissions.
    return sorted(spec.rules, key=lambda r: 0 if r.effect == Effect.DENY else 1)


def _english_twins_fill(action: ActionType) -> None:
    """Give an already loaded action and its rules the English twins they lack."""
    if not action.name_en and ENGLISH.get(action.name):
        action.name_en = ENGLISH[action.name]
        action.save(update_fields=["name_en"])
    for rule in action.rules.filter(message_en="", alternative_en=""):
        rule.message_en = ENGLISH.get(rule.message_ru, "")
        rule.alternative_en = ENGLISH.get(rule.alternative_ru, "")
        if rule.message_en or rule.alternative_en:
            rule.save(update_fields=["message_en", "alternative_en"])
