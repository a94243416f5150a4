"""The built-in order templates: texts (Russian legal documents), fields and workflows.

`order_templates_ensure()` creates missing ones; an admin may then edit the texts. Field
values come from the client card (see `services.order_fields_prefill`); `fields_schema`
names the ones the operator may correct before sending.
"""

from django.db import transaction

from otklik.orders.models import OrderTemplate, TemplateCode

IIS_CLOSE_FROZEN_BODY = """\
Я, {{ client_full_name }}, дата рождения {{ client_birth_date }}, прошу закрыть договор \
на ведение индивидуального инвестиционного счёта № {{ contract_number }} \
от {{ contract_open_date }} ({{ provider }}).

На индивидуальном инвестиционном счёте учитываются следующие активы:
{% for u in fund_units %}— {{ u.name }}, лицевой счёт {{ u.number }}: {{ u.units }} паёв\
{% if u.frozen %} (операции заблокированы){% endif %}\
{% if u.value_rub %}, оценочная стоимость {{ u.value_rub }} ₽{% endif %};
{% empty %}— активов нет;
{% endfor %}
Я понимаю, что заблокированные активы не могут быть реализованы до их разблокировки. \
Прошу учитывать стоимость заблокированных паёв на договоре до снятия блокировки, после \
чего перечислить денежные средства на мой банковский счёт № {{ bank_account_number }} \
в {{ bank_name }}.

Прошу направить мне уведомление о закрытии индивидуального инвестиционного счёта \
с указанием дат его открытия и закрытия для представления в налоговый орган \
и сообщить о закрытии счёта в налоговый орган.
{% if note %}
Дополнительно: {{ note }}
{% endif %}"""

WITHDRAW_FUNDS_BODY = """\
Я, {{ client_full_name }}, дата рождения {{ client_birth_date }}, прошу вывести \
денежные средства в сумме {{ amount }} ₽ с договора № {{ contract_number }} \
({{ provider }}) и перечислить их на мой банковский счёт № {{ bank_account_number }} \
в {{ bank_name }}.
{% if note %}
Дополнительно: {{ note }}
{% endif %}"""

CARD_REISSUE_BODY = """\
Я, {{ client_full_name }}, дата рождения {{ client_birth_date }}, прошу перевыпустить \
банковскую карту {{ card_name }} № {{ card_number_masked }} на индивидуальных условиях:
{{ individual_terms }}

Способ получения карты: {{ delivery }}.
{% if note %}
Дополнительно: {{ note }}
{% endif %}"""

NOTE = {"name": "note", "label": "Дополнительно", "required": False}

TEMPLATES = [
    {
        "code": TemplateCode.IIS_CLOSE_FROZEN,
        "name": "Закрытие ИИС с заблокированными активами",
        "title": "Распоряжение о закрытии индивидуального инвестиционного счёта",
        "body": IIS_CLOSE_FROZEN_BODY,
        "product_kinds": ["iis"],
        "fields_schema": [
            {"name": "contract_number", "label": "Номер договора ИИС", "required": True},
            {"name": "bank_account_number", "label": "Счёт для выплаты", "required": True},
            {"name": "bank_name", "label": "Банк", "required": True},
            NOTE,
        ],
        "steps": [
            {"code": "close_contract", "name": "Закрытие договора ИИС", "executor": "webhook"},
            {
                "code": "generate_closure_notice",
                "name": "Уведомление о закрытии для налоговой",
                "executor": "document",
            },
            {
                "code": "record_tax_notice",
                "name": "Сообщение в налоговый орган",
                "executor": "local",
            },
            {
                "code": "keep_frozen_pending",
                "name": "Стоимость паёв на договоре до разблокировки",
                "executor": "wait_until_unfrozen",
            },
            {"code": "payout", "name": "Выплата на банковский счёт", "executor": "webhook"},
        ],
    },
    {
        "code": TemplateCode.WITHDRAW_FUNDS,
        "name": "Вывод денежных средств",
        "title": "Распоряжение на вывод денежных средств",
        "body": WITHDRAW_FUNDS_BODY,
        "product_kinds": ["brokerage", "iis", "bank_account"],
        "fields_schema": [
            {"name": "contract_number", "label": "Номер договора", "required": True},
            {"name": "amount", "label": "Сумма, ₽", "required": True, "type": "money"},
            {"name": "bank_account_number", "label": "Счёт для выплаты", "required": True},
            {"name": "bank_name", "label": "Банк", "required": True},
            NOTE,
        ],
        "steps": [
            {"code": "withdraw", "name": "Вывод средств с договора", "executor": "webhook"},
            {"code": "payout", "name": "Выплата на банковский счёт", "executor": "webhook"},
        ],
    },
    {
        "code": TemplateCode.CARD_REISSUE_INDIVIDUAL,
        "name": "Перевыпуск карты на индивидуальных условиях",
        "title": "Распоряжение о перевыпуске банковской карты на индивидуальных условиях",
        "body": CARD_REISSUE_BODY,
        "product_kinds": ["card"],
        "fields_schema": [
            {"name": "individual_terms", "label": "Индивидуальные условия", "required": True},
            {"name": "delivery", "label": "Способ получения", "required": True},
            NOTE,
        ],
        "steps": [
            {"code": "card_reissue", "name": "Перевыпуск карты", "executor": "webhook"},
            {
                "code": "record_card_terms",
                "name": "Условия записаны в карточку клиента",
                "executor": "local",
            },
        ],
    },
]


#: The English twins of the templates' names, field labels and step names, by Russian
#: text; the document text itself stays Russian (it is what the client signs).
ENGLISH = {
    "Закрытие ИИС с заблокированными активами": "Closing an IIA with frozen assets",
    "Вывод денежных средств": "Withdrawal of funds",
    "Перевыпуск карты на индивидуальных условиях": "Card reissue on individual terms",
    "Номер договора ИИС": "IIA contract number",
    "Номер договора": "Contract number",
    "Счёт для выплаты": "Payout account",
    "Банк": "Bank",
    "Сумма, ₽": "Amount, ₽",
    "Индивидуальные условия": "Individual terms",
    "Способ получения": "How the card is received",
    "Дополнительно": "Additionally",
    "Закрытие договора ИИС": "Closing the IIA contract",
    "Уведомление о закрытии для налоговой": "Closure notice for the tax office",
    "Сообщение в налоговый орган": "Report to the tax authority",
    "Стоимость паёв на договоре до разблокировки": "Fund units stay on the contract until unfrozen",
    "Выплата на банковский счёт": "Payout to the bank account",
    "Вывод средств с договора": "Withdrawal from the contract",
    "Перевыпуск карты": "Card reissue",
    "Условия записаны в карточку клиента": "Terms recorded on the client card",
}


def _with_english(entries: list[dict], key: str) -> list[dict]:
    """`entries` with `<key>_en` added where the English twin is known and missing."""
    return [
        {**e, f"{key}_en": ENGLISH[e[key]]}
        if not e.get(f"{key}_en") and e.get(key) in ENGLISH
        else e
        for e in entries
    ]


@transaction.atomic
def order_templates_ensure() -> dict[str, OrderTemplate]:
    """Create the built-in templates that are missing (and give those created before the
    English twins their English name, labels and step names); return all of them by code."""
    result = {}
    for spec in TEMPLATES:
        defaults = {k: v for k, v in spec.items() if k != "code"}
        defaults["name_en"] = ENGLISH.get(spec["name"], "")
        defaults["fields_schema"] = _with_english(spec["fields_schema"], "label")
        defaults["steps"] = _with_english(spec["steps"], "name")
        template, created = OrderTemplate.objects.get_or_create(
            code=spec["code"], defaults=defaults
        )
        if not created:
            _english_twins_fill(template)
        result[str(spec["code"])] = template
    return result


def _english_twins_fill(template: OrderTemplate) -> None:
    fields_schema = _with_english(template.fields_schema, "label")
    steps = _with_english(template.steps, "name")
    name_en = template.name_en or ENGLISH.get(template.name, "")
    if (name_en, fields_schema, steps) != (
        template.name_en,
        template.fields_schema,
        template.steps,
    ):
        template.name_en, template.fields_schema, template.steps = name_en, fields_schema, steps
        template.save(update_fields=["name_en", "fields_schema", "steps"])
