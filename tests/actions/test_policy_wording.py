"""What the evaluator tells the operator, word for word, and the conditions no demo rule
reaches (mutation survivors of issue 19, docs/testing.md). Rules live in memory here."""

import pytest

from otklik.actions.models import ActionType, Effect, PolicyRule
from otklik.actions.policy import (
    check_conditions,
    conditions_hold,
    describe_conditions,
    evaluate,
)

ACTION = ActionType(code="x", name="X", input_kind="lift_restriction", enabled=True)


def _rule(pk, effect, roles=(), channels=(), conditions=None, priority=100, **kw):
    return PolicyRule(
        pk=pk,
        effect=effect,
        roles=list(roles),
        channels=list(channels),
        conditions=conditions or {},
        priority=priority,
        **kw,
    )


def _decide(rules, facts=None, role="operator", channel="chat"):
    decision = evaluate(ACTION, role=role, channel=channel, facts=facts or {}, rules=rules)
    return (
        decision.allowed,
        decision.conditional,
        decision.rule_id,
        decision.reason,
        decision.alternative,
    )


def test_an_unknown_fact_allows_only_conditionally_and_says_if_what():
    rules = [_rule(1, Effect.ALLOW, conditions={"amount_lte": 3000}, alternative_ru="на 900")]
    assert _decide(rules) == (True, True, 1, "Если: сумма ≤ 3000 ₽", "на 900")


def test_an_unmet_condition_names_it_unless_the_rule_has_its_own_message():
    rules = [_rule(1, Effect.ALLOW, conditions={"amount_lte": 3000})]
    assert _decide(rules, {"amount": 5000}) == (
        False,
        False,
        1,
        "Не выполнено условие: сумма ≤ 3000 ₽",
        "",
    )
    own = [_rule(1, Effect.ALLOW, conditions={"amount_lte": 3000}, message_ru="Только старший")]
    assert _decide(own, {"amount": 5000})[3] == "Только старший"


def test_an_allow_with_an_undecided_deny_says_unless_what():
    rules = [
        _rule(1, Effect.ALLOW),
        _rule(
            2, Effect.DENY, conditions={"client_flag": "security_verified"}, alternative_ru="900"
        ),
    ]
    assert _decide(rules) == (
        True,
        True,
        1,
        "Кроме случая: отметка клиента: Проверен службой безопасности",
        "900",
    )


def test_a_plain_allow_shows_its_message_only_when_it_has_no_conditions():
    assert _decide([_rule(1, Effect.ALLOW, message_ru="Можно")]) == (True, False, 1, "Можно", "")
    held = [_rule(1, Effect.ALLOW, conditions={"amount_lte": 10}, message_ru="Можно")]
    assert _decide(held, {"amount": 5}) == (True, False, 1, "", "")


def test_a_deny_without_a_message_says_the_policy_refused():
    assert _decide([_rule(7, Effect.DENY, alternative_ru="в офисе")]) == (
        False,
        False,
        7,
        "Запрещено политикой.",
        "в офисе",
    )


def test_default_deny_names_role_channel_and_each_other_channel_once():
    rules = [_rule(1, Effect.ALLOW, roles=["operator"], channels=["phone", "office", "phone"])]
    assert _decide(rules) == (
        False,
        False,
        None,
        "Не разрешено для роли «Оператор» в канале «Чат».",
        "Можно в каналах: Телефон, Офис.",
    )
    # Another role's channels are not offered; a deny's alternative is, when nothing else is.
    other = [
        _rule(1, Effect.ALLOW, roles=["senior_operator"], channels=["phone"]),
        _rule(2, Effect.DENY, roles=["specialist"], alternative_ru="в отделении"),
    ]
    assert _decide(other)[4] == "в отделении"


def test_a_switched_off_action_says_so():
    off = ActionType(code="y", name="Y", input_kind="lift_restriction", enabled=False)
    decision = evaluate(off, role="operator", channel="chat", facts={}, rules=[_rule(1, "allow")])
    assert (decision.allowed, decision.reason) == (False, "Это действие отключено.")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [({"security_verified"}, False), (set(), True), (None, None)],
)
def test_client_flag_absent(flags, expected):
    facts = {} if flags is None else {"client_flags": flags}
    assert conditions_hold({"client_flag_absent": "security_verified"}, facts) is expected


@pytest.mark.parametrize(
    ("amount", "gt", "lte"),
    [("100", False, True), ("100.01", True, False), ("99", False, True), ("abc", None, None)],
)
def test_amount_limits_are_strict_above_and_inclusive_below(amount, gt, lte):
    facts = {"amount": amount}
    assert conditions_hold({"amount_gt": 100}, facts) is gt
    assert conditions_hold({"amount_lte": 100}, facts) is lte


def test_every_condition_is_described_in_russian():
    text = describe_conditions(
        {
            "client_flag": "security_verified",
            "client_flag_absent": "security_verified",
            "restriction_kind_in": ["limit", "court_order"],
            "product_status": "active",
            "product_status_in": ["active", "blocked"],
            "amount_lte": "3000",
            "amount_gt": 100,
            "application_age_hours_lte": 2,
            "is_personal_manager": True,
        }
    )
    assert text.split("; ") == [
        "отметка клиента: Проверен службой безопасности",
        "у клиента нет отметки: Проверен службой безопасности",
        "ограничение одно из: Лимит операций, Арест по решению суда",
        "статус продукта: Действует",
        "статус продукта один из: Действует, Заблокирован",
        "сумма ≤ 3000 ₽",
        "сумма > 100 ₽",
        "в течение 2 ч после заявки",
        "оператор — персональный менеджер клиента",
    ]
    assert describe_conditions({"is_personal_manager": False, "zzz": 1}) == (
        "оператор — не персональный менеджер клиента; неизвестное условие «zzz»"
    )


def test_personal_manager_and_status_conditions():
    assert conditions_hold({"is_personal_manager": True}, {"is_personal_manager": True}) is True
    assert conditions_hold({"is_personal_manager": False}, {"is_personal_manager": True}) is False
    assert conditions_hold({"product_status": "active"}, {"product_status": "closed"}) is False
    assert conditions_hold({"product_status_in": ["active"]}, {"product_status": "active"}) is True
    assert conditions_hold({"application_age_hours_lte": 2}, {"application_age_hours": 2}) is True


def test_conditions_must_be_an_object_with_known_keys():
    assert check_conditions([1]) == ["Условия должны быть JSON-объектом."]
    assert check_conditions({"a": 1, "amount_gt": 5}) == ["Неизвестное условие «a»."]
