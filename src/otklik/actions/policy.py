"""The rule evaluator: the one place that decides whether an action is allowed.

`evaluate(action, role=, channel=, facts=)` reads the action's `PolicyRule` rows (data an
administrator edits) and returns a `Decision`. Rules:

* a rule applies when the role and the channel are in its lists (an empty list = any);
* its `conditions` (all must hold) are checked against `facts`; a fact that is missing
  is *unknown*, so a condition on it neither holds nor fails;
* a deny rule whose conditions hold wins over everything;
* otherwise an allow rule whose conditions hold allows;
* otherwise an allow rule with unknown conditions allows *conditionally* (the card shows
  the action with its condition; the service, which knows every fact, never accepts a
  conditional decision);
* otherwise the action is refused: with the unmet allow rule's reason and alternative if
  one applied, else by default, naming the channels where this role may do it.

The matrix page calls the same function with no facts, so what it shows is what runs.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from otklik.accounts.models import Role
from otklik.actions.models import Effect, PolicyRule
from otklik.clients.models import ChannelKind, ProductStatus, RestrictionKind


@dataclass(frozen=True)
class Decision:
    """The verdict for one action, role and channel; `reason` and `alternative` are shown."""

    allowed: bool
    rule: PolicyRule | None = None
    reason: str = ""
    alternative: str = ""
    conditional: bool = False

    @property
    def definite(self) -> bool:
        """Allowed with every condition known to hold: the only verdict the service runs."""
        return self.allowed and not self.conditional

    @property
    def rule_id(self) -> int | None:
        return self.rule.pk if self.rule is not None else None


# --- conditions --------------------------------------------------------------------------
# Each condition: (check(value, facts) -> True / False / None for unknown, describe(value)).

Tri = bool | None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _flag(value, facts) -> Tri:
    flags = facts.get("client_flags")
    return None if flags is None else value in flags


def _flag_absent(value, facts) -> Tri:
    flags = facts.get("client_flags")
    return None if flags is None else value not in flags


def _in(fact: str) -> Callable[[Any, Mapping], Tri]:
    def check(value, facts) -> Tri:
        known = facts.get(fact)
        return None if known is None else known in list(value)

    return check


def _equals(fact: str) -> Callable[[Any, Mapping], Tri]:
    def check(value, facts) -> Tri:
        known = facts.get(fact)
        return None if known is None else known == value

    return check


def _compare(fact: str, op: str) -> Callable[[Any, Mapping], Tri]:
    def check(value, facts) -> Tri:
        known, limit = _decimal(facts.get(fact)), _decimal(value)
        if known is None or limit is None:
            return None
        return known <= limit if op == "lte" else known > limit

    return check


def _is_true(fact: str) -> Callable[[Any, Mapping], Tri]:
    def check(value, facts) -> Tri:
        known = facts.get(fact)
        return None if known is None else bool(known) == bool(value)

    return check


def _labels(values: Iterable, choices) -> str:
    names = dict(choices)
    return ", ".join(str(names.get(v, v)) for v in values)


def _flag_label(value: str) -> str:
    from otklik.actions.models import ClientFlagKind

    return str(dict(ClientFlagKind.choices).get(value, value))


CONDITIONS: dict[str, tuple[Callable[[Any, Mapping], Tri], Callable[[Any], str]]] = {
    "client_flag": (
        _flag,
        lambda v: _("client flag: %(flag)s") % {"flag": _flag_label(v)},
    ),
    "client_flag_absent": (
        _flag_absent,
        lambda v: _("client has no flag: %(flag)s") % {"flag": _flag_label(v)},
    ),
    "restriction_kind_in": (
        _in("restriction_kind"),
        lambda v: (
            _("restriction is one of: %(kinds)s") % {"kinds": _labels(v, RestrictionKind.choices)}
        ),
    ),
    "product_status": (
        _equals("product_status"),
        lambda v: _("product status: %(status)s") % {"status": _labels([v], ProductStatus.choices)},
    ),
    "product_status_in": (
        _in("product_status"),
        lambda v: (
            _("product status is one of: %(statuses)s")
            % {"statuses": _labels(v, ProductStatus.choices)}
        ),
    ),
    "amount_lte": (
        _compare("amount", "lte"),
        lambda v: _("amount ≤ %(amount)s ₽") % {"amount": v},
    ),
    "amount_gt": (
        _compare("amount", "gt"),
        lambda v: _("amount > %(amount)s ₽") % {"amount": v},
    ),
    "application_age_hours_lte": (
        _compare("application_age_hours", "lte"),
        lambda v: _("within %(hours)s h of the application") % {"hours": v},
    ),
    "is_personal_manager": (
        _is_true("is_personal_manager"),
        lambda v: (
            _("the operator is the client's personal manager")
            if v
            else _("the operator is not the client's personal manager")
        ),
    ),
}


def check_conditions(conditions: Mapping) -> list[str]:
    """Problems in a rule's conditions (unknown keys); used by the admin form."""
    if not isinstance(conditions, Mapping):
        return [_("Conditions must be a JSON object.")]
    return [
        _("Unknown condition «%(key)s».") % {"key": key}
        for key in conditions
        if key not in CONDITIONS
    ]


def conditions_hold(conditions: Mapping, facts: Mapping) -> Tri:
    """True if all hold, False if one fails, None if none fails but some are unknown.

    An unknown condition key fails: a typo in the policy must refuse, not allow.
    """
    result: Tri = True
    for key, value in (conditions or {}).items():
        entry = CONDITIONS.get(key)
        if entry is None:
            return False
        outcome = entry[0](value, facts)
        if outcome is False:
            return False
        if outcome is None:
            result = None
    return result


def describe_conditions(conditions: Mapping) -> str:
    """The conditions as one human sentence (for the card and the matrix)."""
    parts = []
    for key, value in (conditions or {}).items():
        entry = CONDITIONS.get(key)
        parts.append(entry[1](value) if entry else _("unknown condition «%(key)s»") % {"key": key})
    return "; ".join(parts)


def _applies(rule: PolicyRule, role: str, channel: str) -> bool:
    return (not rule.roles or role in rule.roles) and (
        not rule.channels or channel in rule.channels
    )


def _channel_names(channels: Iterable[str]) -> str:
    return _labels(dict.fromkeys(channels), ChannelKind.choices)


def evaluate(
    action,
    *,
    role: str,
    channel: str,
    facts: Mapping | None = None,
    rules: Iterable[PolicyRule] | None = None,
) -> Decision:
    """Decide whether `role` may run `action` on `channel` given `facts` (see module doc)."""
    facts = facts or {}
    all_rules = sorted(
        rules if rules is not None else action.rules.all(), key=lambda r: (r.priority, r.pk or 0)
    )
    if not getattr(action, "enabled", True):
        return Decision(False, reason=_("This action is switched off."))
    applicable = [r for r in all_rules if _applies(r, role, channel)]
    verdicts = [(r, conditions_hold(r.conditions, facts)) for r in applicable]

    for rule, holds in verdicts:
        if rule.effect == Effect.DENY and holds is True:
            return Decision(
                False,
                rule,
                rule.message or _("Refused by the policy."),
                rule.alternative,
            )
    uncertain_denies = [r for r, h in verdicts if r.effect == Effect.DENY and h is None]
    for rule, holds in verdicts:
        if rule.effect == Effect.ALLOW and holds is True:
            if uncertain_denies:
                deny = uncertain_denies[0]
                return Decision(
                    True,
                    rule,
                    _("Unless: %(conditions)s")
                    % {"conditions": describe_conditions(deny.conditions)},
                    deny.alternative,
                    conditional=True,
                )
            return Decision(True, rule, rule.message if not rule.conditions else "")
    for rule, holds in verdicts:
        if rule.effect == Effect.ALLOW and holds is None:
            return Decision(
                True,
                rule,
                _("If: %(conditions)s") % {"conditions": describe_conditions(rule.conditions)},
                rule.alternative,
                conditional=True,
            )
    for rule, holds in verdicts:
        if rule.effect == Effect.ALLOW and holds is False:
            reason = rule.message or _("Condition not met: %(conditions)s") % {
                "conditions": describe_conditions(rule.conditions)
            }
            return Decision(False, rule, reason, rule.alternative)

    # Default deny: say where this role could do it, if anywhere.
    elsewhere = [
        c
        for r in all_rules
        if r.effect == Effect.ALLOW and (not r.roles or role in r.roles)
        for c in (r.channels or [])
        if c != channel
    ]
    role_name = dict(Role.choices).get(role, role)
    channel_name = dict(ChannelKind.choices).get(channel, channel)
    reason = _("Not allowed for «%(role)s» on the channel «%(channel)s».") % {
        "role": role_name,
        "channel": channel_name,
    }
    alternative = ""
    if elsewhere:
        alternative = _("Possible on: %(channels)s.") % {"channels": _channel_names(elsewhere)}
    else:
        denies = [r for r in all_rules if r.effect == Effect.DENY and r.alternative]
        alternative = denies[0].alternative if denies else ""
    return Decision(False, None, reason, alternative)
