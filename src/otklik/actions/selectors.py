"""Reads about actions: which ones a product offers now, the policy matrix, recent runs.

The facts a policy can ask about are gathered here (`product_facts`) and nowhere else,
so the card, the form, the service and the API all decide from the same facts.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, User
from otklik.actions.inputs import input_spec
from otklik.actions.models import ActionRun, ActionType, ClientFlag, ClientFlagKind, PolicyRule
from otklik.actions.policy import Decision, describe_conditions, evaluate
from otklik.cases.models import Case, Interaction
from otklik.cases.selectors import can_edit_case, cases_visible_q
from otklik.clients.models import ChannelKind, Client, Product, Restriction

DEFAULT_CHANNEL = ChannelKind.PHONE


def action_types_enabled() -> QuerySet[ActionType]:
    return ActionType.objects.filter(enabled=True).prefetch_related(
        Prefetch("rules", queryset=PolicyRule.objects.order_by("priority", "id"))
    )


def action_type_get(*, code: str) -> ActionType:
    action = action_types_enabled().filter(code=code).first()
    if action is None:
        raise Http404("action not found")
    return action


def client_flags_active(*, client: Client, now: datetime | None = None) -> set[str]:
    now = now or timezone.now()
    return set(
        ClientFlag.objects.filter(client=client)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("flag", flat=True)
    )


def client_flag_list(*, client: Client, now: datetime | None = None) -> list[ClientFlag]:
    now = now or timezone.now()
    return list(
        ClientFlag.objects.filter(client=client)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("set_by")
    )


def can_set_client_flag(*, user: User, flag: str) -> bool:
    """Security marks a client verified; supervisors and admins may too."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.sees_everything:
        return True
    if flag == ClientFlagKind.SECURITY_VERIFIED:
        return user.role == Role.SPECIALIST and getattr(user.department, "code", "") == "security"
    return False


def _application_age_hours(product: Product, now: datetime) -> Decimal | None:
    """Hours since the product was applied for, counted from the start of its day.

    Products keep a date, not a time, so this over-counts: a condition like "within 2 h"
    refuses more than it should, never less.
    """
    if product.opened_on is None:
        return None
    start = timezone.make_aware(datetime.combine(product.opened_on, time.min))
    return Decimal((now - start) / timedelta(hours=1)).quantize(Decimal("0.01"))


def product_facts(
    *,
    user: User,
    client: Client,
    product: Product,
    restriction: Restriction | None = None,
    flags: set[str] | None = None,
    amount=None,
    now: datetime | None = None,
) -> dict:
    """Everything a policy condition can ask about this product, client and operator."""
    now = now or timezone.now()
    facts = {
        "client_flags": flags if flags is not None else client_flags_active(client=client, now=now),
        "product_kind": product.kind,
        "product_status": product.status,
        "is_personal_manager": client.personal_manager_id == user.pk,
    }
    age = _application_age_hours(product, now)
    if age is not None:
        facts["application_age_hours"] = age
    if restriction is not None:
        facts["restriction_kind"] = restriction.kind
    if amount is not None:
        facts["amount"] = amount
    return facts


def applies_to(action: ActionType, product: Product) -> bool:
    return not action.product_kinds or product.kind in action.product_kinds


@dataclass
class OfferedAction:
    """One action as the card offers it: allowed now, or refused with why and what instead."""

    action: ActionType
    decision: Decision
    restriction: Restriction | None = None
    initial: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.action.code}-{self.restriction.pk if self.restriction else 0}"


def actions_for_product(
    *,
    user: User,
    client: Client,
    product: Product,
    channel: str,
    now: datetime | None = None,
) -> list[OfferedAction]:
    """Each applicable action for this product with its decision for `user` on `channel`.

    A "lift restriction" action is offered once per active restriction of its kind; an
    action with no matching restriction is not offered at all.
    """
    now = now or timezone.now()
    flags = client_flags_active(client=client, now=now)
    restrictions = list(product.restrictions.filter(lifted_at__isnull=True).order_by("placed_at"))
    offered: list[OfferedAction] = []
    for action in action_types_enabled():
        if not applies_to(action, product):
            continue
        spec = input_spec(action.input_kind)
        if action.restriction_kind:
            targets = [r for r in restrictions if r.kind == action.restriction_kind]
        else:
            targets = [None]
        for restriction in targets:
            facts = product_facts(
                user=user,
                client=client,
                product=product,
                restriction=restriction,
                flags=flags,
                now=now,
            )
            decision = evaluate(action, role=user.role, channel=channel, facts=facts)
            initial = {}
            if restriction is not None:
                initial["restriction_id"] = restriction.pk
            if any(f.name == "service_product_id" for f in spec.fields):
                initial["service_product_id"] = product.pk
            # A bank service's own parameters (currency pair, rate...) prefill the form.
            parameters = (product.details or {}).get("parameters") or {}
            for f in spec.fields:
                if f.name in parameters and f.widget != "hidden":
                    initial.setdefault(f.name, parameters[f.name])
            offered.append(OfferedAction(action, decision, restriction, initial))
    return offered


def current_interaction(*, case: Case) -> Interaction | None:
    """The live contact on the case (not ended), newest first."""
    return (
        Interaction.objects.filter(case=case, ended_at__isnull=True).order_by("-started_at").first()
    )


def channel_of_case(*, case: Case | None) -> str:
    """The channel the operator is on: the live contact's, else the case's, else phone."""
    if case is None:
        return DEFAULT_CHANNEL
    live = current_interaction(case=case)
    if live is not None:
        return live.channel
    return case.channel or DEFAULT_CHANNEL


def case_for_actions(*, user: User, client: Client, case_id: int | None) -> Case | None:
    """The case an action will be recorded on: the given one if the user may work it, or the
    newest open case of this client the user may work. None if there is none."""
    cases = Case.objects.filter(cases_visible_q(user), client=client).select_related("client")
    if case_id:
        case = cases.filter(pk=case_id).first()
        if case is None:
            raise Http404("case not found")
        return case if can_edit_case(user=user, case=case) else None
    if not can_edit_case(user=user, case=Case(client=client)):
        return None
    return cases.filter(is_open=True).order_by("-created_at").first()


def product_get_for_user(*, user: User, product_id: int) -> Product:
    """A product whose client `user` may see, else 404."""
    from otklik.clients.selectors import clients_visible_q

    product = (
        Product.objects.filter(pk=product_id)
        .filter(client__in=Client.objects.filter(clients_visible_q(user)))
        .select_related("client", "client__personal_manager")
        .first()
    )
    if product is None:
        raise Http404("product not found")
    return product


def product_named_in_request(*, user: User, product_id: int) -> Product:
    """A product named in a request body: invisible and missing look the same (no leak)."""
    from otklik.common.errors import ServiceError

    try:
        return product_get_for_user(user=user, product_id=product_id)
    except Http404:
        raise ServiceError({"product_id": _("No such product.")}) from None


def runs_for_case(*, user: User, case: Case, limit: int = 20) -> list[ActionRun]:
    """Recent action runs on a case the user can see (caller fetched the case with access)."""
    return list(
        ActionRun.objects.filter(case=case)
        .select_related("action", "actor", "product", "restriction")
        .order_by("-created_at", "-id")[:limit]
    )


def run_list_for_user(*, user: User, case_id: int, limit: int = 50) -> list[ActionRun]:
    from otklik.cases.selectors import case_get_for_user

    case = case_get_for_user(user=user, case_id=case_id)
    return runs_for_case(user=user, case=case, limit=limit)


# --- the matrix ---------------------------------------------------------------------------

# Department specialists act through handoffs, never on products: no column for them.
MATRIX_ROLES = (Role.OPERATOR, Role.SENIOR_OPERATOR, Role.PERSONAL_MANAGER, Role.SUPERVISOR)
MATRIX_CHANNELS = (
    ChannelKind.PHONE,
    ChannelKind.OFFICE,
    ChannelKind.CHAT,
    ChannelKind.MESSENGER,
    ChannelKind.PORTAL,
    ChannelKind.EMAIL,
)


@dataclass
class MatrixCell:
    state: str  # "allow", "deny", "conditional"
    text: str
    alternative: str


@dataclass
class MatrixRow:
    action: ActionType
    cells: list[list[MatrixCell]]  # [channel][role]


def can_read_matrix(*, user: User) -> bool:
    return user.is_authenticated and (user.sees_everything or user.role == Role.SENIOR_OPERATOR)


def policy_matrix(
    *, user: User
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[MatrixRow]]:
    """Actions × channels × roles, each cell the evaluator's verdict with no facts known."""
    if not can_read_matrix(user=user):
        raise Http404("no access")
    roles = [(r.value, r.label) for r in MATRIX_ROLES]
    channels = [(c.value, c.label) for c in MATRIX_CHANNELS]
    rows = []
    for action in action_types_enabled():
        cells = []
        for channel, _label in channels:
            line = []
            for role, _name in roles:
                decision = evaluate(action, role=role, channel=channel, facts={})
                state = (
                    "deny"
                    if not decision.allowed
                    else ("conditional" if decision.conditional else "allow")
                )
                line.append(MatrixCell(state, decision.reason, decision.alternative))
            cells.append(line)
        rows.append(MatrixRow(action, cells))
    return roles, channels, rows


def rule_summary(rule: PolicyRule) -> str:
    """One line per rule for the admin and the matrix legend."""
    who = ", ".join(str(dict(Role.choices).get(r, r)) for r in rule.roles) or _("any role")
    where = ", ".join(str(dict(ChannelKind.choices).get(c, c)) for c in rule.channels) or _(
        "any channel"
    )
    cond = describe_conditions(rule.conditions)
    return f"{rule.get_effect_display()}: {who} · {where}" + (f" · {cond}" if cond else "")


def run_get_for_user(*, user: User, run_id: int) -> ActionRun:
    """A run on a case the user can see, else 404."""
    run = (
        ActionRun.objects.filter(pk=run_id, case__in=Case.objects.filter(cases_visible_q(user)))
        .select_related("action", "case", "product", "restriction", "actor")
        .first()
    )
    if run is None:
        raise Http404("run not found")
    return run
