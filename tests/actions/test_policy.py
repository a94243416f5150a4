"""The rule evaluator: the demo policy as a table, and the evaluator's edge cases."""

import pytest

from otklik.actions.models import ActionType, Effect, PolicyRule
from otklik.actions.policy import check_conditions, conditions_hold, evaluate

VERIFIED = {"client_flags": {"security_verified"}}
MINE = {"is_personal_manager": True}
NOT_MINE = {"is_personal_manager": False}
FRESH = {"application_age_hours": "1.5"}
STALE = {"application_age_hours": "2.5"}
NOT_VERIFIED = {"client_flags": set()}

# (action, role, channel, facts, allowed, conditional)
MATRIX = [
    # Story 002: fraud check — phone yes; chat only once security verified the client.
    ("lift_fraud_check", "operator", "phone", NOT_VERIFIED, True, False),
    ("lift_fraud_check", "operator", "chat", NOT_VERIFIED, False, False),
    ("lift_fraud_check", "operator", "chat", VERIFIED, True, False),
    ("lift_fraud_check", "operator", "chat", {}, True, True),
    ("lift_fraud_check", "senior_operator", "chat", VERIFIED, True, False),
    ("lift_fraud_check", "specialist", "phone", VERIFIED, False, False),
    ("lift_fraud_check", "operator", "portal", NOT_VERIFIED, False, False),
    # Foreign operations: chat is fine.
    ("lift_foreign_operations", "operator", "chat", {}, True, False),
    ("lift_foreign_operations", "senior_operator", "messenger", {}, True, False),
    ("lift_foreign_operations", "operator", "email", {}, False, False),
    # Court order: never in writing, whoever asks.
    ("lift_court_order", "operator", "chat", VERIFIED, False, False),
    ("lift_court_order", "supervisor", "chat", {}, False, False),
    ("lift_court_order", "senior_operator", "phone", {}, True, False),
    # Story 004: refunds up to 3 000 ₽ by operators, more by seniors; on the phone.
    ("refund_charge", "operator", "phone", {"amount": "1000"}, True, False),
    ("refund_charge", "operator", "phone", {"amount": "3000"}, True, False),
    ("refund_charge", "operator", "phone", {"amount": "3000.01"}, False, False),
    ("refund_charge", "operator", "phone", {}, True, True),
    ("refund_charge", "senior_operator", "phone", {"amount": "20000"}, True, False),
    ("refund_charge", "operator", "chat", {"amount": "100"}, False, False),
    ("change_tariff", "operator", "phone", {}, True, False),
    ("change_tariff", "operator", "chat", {}, False, False),
    ("disable_service", "operator", "phone", {"product_status": "active"}, True, False),
    ("disable_service", "operator", "phone", {"product_status": "closed"}, False, False),
    # Story 003: auto-exchange for the client's personal manager only.
    ("start_auto_exchange", "personal_manager", "phone", MINE, True, False),
    ("start_auto_exchange", "personal_manager", "phone", NOT_MINE, False, False),
    ("start_auto_exchange", "operator", "phone", NOT_MINE, False, False),
    ("correct_delivery_address", "operator", "phone", FRESH, True, False),
    ("correct_delivery_address", "operator", "phone", STALE, False, False),
    ("reissue_card", "operator", "chat", {}, True, False),
]


@pytest.mark.parametrize(("code", "role", "channel", "facts", "allowed", "conditional"), MATRIX)
def test_demo_policy_matrix(catalogue, code, role, channel, facts, allowed, conditional):
    action = ActionType.objects.get(code=code)
    decision = evaluate(action, role=role, channel=channel, facts=facts)
    assert (decision.allowed, decision.conditional) == (allowed, conditional), decision
    if not allowed:
        assert decision.reason


def test_court_order_in_chat_says_what_to_do_instead(catalogue):
    action = ActionType.objects.get(code="lift_court_order")
    decision = evaluate(action, role="operator", channel="chat", facts={})
    assert decision.alternative == "только по звонку на 900 или в офисе"


def test_fraud_check_in_chat_explains_the_missing_verification(catalogue):
    action = ActionType.objects.get(code="lift_fraud_check")
    decision = evaluate(action, role="operator", channel="chat", facts=NOT_VERIFIED)
    assert "СБ" in decision.reason
    assert "900" in decision.alternative


# --- edge cases with rules in memory -----------------------------------------------------


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


ACTION = ActionType(code="x", name="X", input_kind="lift_restriction", enabled=True)


def test_no_rules_means_refused_with_a_reason():
    decision = evaluate(ACTION, role="operator", channel="chat", facts={}, rules=[])
    assert not decision.allowed and decision.rule is None
    assert decision.reason


def test_deny_wins_over_allow_whatever_the_priority():
    rules = [
        _rule(1, Effect.ALLOW, priority=1),
        _rule(2, Effect.DENY, channels=["chat"], priority=999, message_ru="нет"),
    ]
    decision = evaluate(ACTION, role="operator", channel="chat", facts={}, rules=rules)
    assert not decision.allowed and decision.rule.pk == 2 and decision.reason == "нет"
    assert evaluate(ACTION, role="operator", channel="phone", facts={}, rules=rules).allowed


def test_a_deny_rule_whose_condition_fails_does_not_apply():
    rules = [
        _rule(1, Effect.ALLOW),
        _rule(2, Effect.DENY, conditions={"amount_gt": 100}),
    ]
    small = evaluate(ACTION, role="operator", channel="chat", facts={"amount": 50}, rules=rules)
    assert small.definite
    assert not evaluate(
        ACTION, role="operator", channel="chat", facts={"amount": 500}, rules=rules
    ).allowed
    unknown = evaluate(ACTION, role="operator", channel="chat", facts={}, rules=rules)
    assert unknown.allowed and unknown.conditional


def test_default_deny_points_to_the_channels_where_the_role_may_act():
    rules = [_rule(1, Effect.ALLOW, roles=["operator"], channels=["phone", "office"])]
    decision = evaluate(ACTION, role="operator", channel="chat", facts={}, rules=rules)
    assert not decision.allowed
    assert "Phone" in decision.alternative or "Телефон" in decision.alternative


def test_roles_and_channels_empty_match_everything():
    rules = [_rule(1, Effect.ALLOW)]
    assert evaluate(ACTION, role="specialist", channel="email", facts={}, rules=rules).definite


def test_an_unknown_condition_key_refuses_rather_than_allows():
    assert conditions_hold({"typo_flag": 1}, {}) is False
    assert check_conditions({"typo_flag": 1})
    assert check_conditions({"amount_lte": 1}) == []
    rules = [_rule(1, Effect.ALLOW, conditions={"typo_flag": 1})]
    assert not evaluate(ACTION, role="operator", channel="chat", facts={}, rules=rules).allowed


def test_conditions_all_must_hold():
    conditions = {"client_flag": "security_verified", "product_status": "active"}
    facts = {"client_flags": {"security_verified"}, "product_status": "blocked"}
    assert conditions_hold(conditions, facts) is False
    assert conditions_hold(conditions, {**facts, "product_status": "active"}) is True
    assert conditions_hold(conditions, {"product_status": "active"}) is None


def test_a_switched_off_action_is_refused():
    off = ActionType(code="y", name="Y", input_kind="lift_restriction", enabled=False)
    rules = [_rule(1, "allow")]
    assert not evaluate(off, role="operator", channel="phone", facts={}, rules=rules).allowed


def test_restriction_kind_condition():
    rules = [_rule(1, Effect.ALLOW, conditions={"restriction_kind_in": ["limit", "fraud_check"]})]
    facts = {"restriction_kind": "court_order"}
    assert not evaluate(ACTION, role="operator", channel="chat", facts=facts, rules=rules).allowed
    facts = {"restriction_kind": "limit"}
    assert evaluate(ACTION, role="operator", channel="chat", facts=facts, rules=rules).definite
