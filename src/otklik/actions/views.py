"""Workspace pages of the actions app: per-product panel, inline forms, runs, the matrix.

Views fetch with access checks (selectors), call one service and render; the decisions
they show come from the evaluator, never from the templates.
"""

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from otklik.accounts.models import Role
from otklik.actions import backoffice
from otklik.actions.inputs import input_spec
from otklik.actions.models import ClientFlagKind, RunStatus
from otklik.actions.selectors import (
    actions_for_product,
    can_set_client_flag,
    case_for_actions,
    channel_of_case,
    client_flag_list,
    current_interaction,
    policy_matrix,
    product_get_for_user,
    run_get_for_user,
    runs_for_case,
)
from otklik.actions.services import ActionDenied, action_request, client_flag_set
from otklik.audit.services import audit_record
from otklik.cases.selectors import case_get_for_user
from otklik.clients.selectors import tariffs_offered
from otklik.common.errors import ServiceError
from otklik.notifications.notifiers import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

VIA = "workspace"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _context(request: HttpRequest, product_id: int) -> dict:
    product = product_get_for_user(user=request.user, product_id=product_id)
    client = product.client
    case = case_for_actions(
        user=request.user,
        client=client,
        case_id=_int(request.GET.get("case") or request.POST.get("case")),
    )
    return {
        "product": product,
        "client": client,
        "case": case,
        "channel": channel_of_case(case=case),
    }


def _channel_label(channel: str) -> str:
    from otklik.clients.models import ChannelKind

    return str(dict(ChannelKind.choices).get(channel, channel))


@login_required
@require_GET
def product_panel(request: HttpRequest, product_id: int) -> HttpResponse:
    """The actions of one product, allowed or refused, for this operator on this channel."""
    return _render_panel(request, product_id)


def _render_panel(request: HttpRequest, product_id: int) -> HttpResponse:
    ctx = _context(request, product_id)
    product, client = ctx["product"], ctx["client"]
    audit_record(
        actor=request.user,
        action="actions.view",
        via=VIA,
        client_id=client.pk,
        obj=product,
        request=request,
    )
    # Department specialists never act on products (they answer handoffs): they only see
    # the marks they may set, not a list of refusals.
    acts = request.user.role != Role.SPECIALIST or request.user.is_superuser
    offered = (
        actions_for_product(
            user=request.user, client=client, product=product, channel=ctx["channel"]
        )
        if acts
        else []
    )
    has_restrictions = product.restrictions.filter(lifted_at__isnull=True).exists()
    ctx.update(
        offered=offered,
        acts=acts,
        channel_label=_channel_label(ctx["channel"]),
        flags=client_flag_list(client=client) if has_restrictions else [],
        can_verify=has_restrictions
        and can_set_client_flag(user=request.user, flag=ClientFlagKind.SECURITY_VERIFIED),
    )
    return render(request, "actions/_panel.html", ctx)


def _offer(request, ctx, code: str, restriction_id: int | None):
    for offer in actions_for_product(
        user=request.user, client=ctx["client"], product=ctx["product"], channel=ctx["channel"]
    ):
        if offer.action.code == code and (
            offer.restriction is None or offer.restriction.pk == restriction_id
        ):
            return offer
    raise Http404("action not offered")


def _choices(field, product) -> list[tuple[str, str]]:
    """A select's options: fixed ones, or the provider's tariffs on sale with their prices."""
    if field.widget != "tariff":
        return list(field.choices)
    options = []
    for t in tariffs_offered(product=product):
        places = 0 if t.monthly_fee == t.monthly_fee.to_integral() else 2
        fee = number_format(t.monthly_fee, places, force_grouping=True)
        options.append((t.name, _("%(name)s — %(fee)s ₽ a month") % {"name": t.name, "fee": fee}))
    return options


def _form_context(ctx: dict, offer, values: dict, errors: dict, key: str) -> dict:
    spec = input_spec(offer.action.input_kind)
    fields = [
        {
            "f": f,
            "value": values.get(f.name, offer.initial.get(f.name, "")),
            "errors": errors.get(f.name, []),
            "choices": _choices(f, ctx["product"]),
        }
        for f in spec.fields
    ]
    known = {f.name for f in spec.fields}
    general = [m for name, msgs in errors.items() if name not in known for m in msgs]
    return {**ctx, "offer": offer, "fields": fields, "general_errors": general, "key": key}


@login_required
@require_GET
def action_form(request: HttpRequest, product_id: int, code: str) -> HttpResponse:
    """The inline form of one action (an htmx fragment); refused actions have no form."""
    ctx = _context(request, product_id)
    offer = _offer(request, ctx, code, _int(request.GET.get("restriction")))
    if ctx["case"] is None or not offer.decision.allowed:
        raise Http404("not allowed")
    return render(
        request,
        "actions/_form.html",
        _form_context(ctx, offer, {}, {}, uuid.uuid4().hex),
    )


@login_required
@require_POST
def action_submit(request: HttpRequest, product_id: int, code: str) -> HttpResponse:
    """Run the action through the service (which checks the policy again) and show the run."""
    ctx = _context(request, product_id)
    case = ctx["case"]
    if case is None:
        raise Http404("no case")
    offer = _offer(request, ctx, code, _int(request.POST.get("restriction_id")))
    spec = input_spec(offer.action.input_kind)
    values = {f.name: request.POST.get(f.name, "") for f in spec.fields}
    data = {k: v for k, v in values.items() if v != ""}
    key = (request.POST.get("idempotency_key") or "").strip() or uuid.uuid4().hex
    try:
        run = action_request(
            actor=request.user,
            case=case,
            product=ctx["product"],
            action_code=code,
            input=data,
            channel=ctx["channel"],
            idempotency_key=key,
            interaction=current_interaction(case=case),
            via=VIA,
            request=request,
        )
    except ActionDenied as exc:
        context = _form_context(ctx, offer, values, {}, key)
        context["denied"] = exc.decision
        return render(request, "actions/_form.html", context, status=422)
    except ServiceError as exc:
        errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        return render(
            request,
            "actions/_form.html",
            _form_context(ctx, offer, values, errors, key),
            status=422,
        )
    return render(request, "actions/_run_status.html", {"run": run})


@login_required
@require_GET
def run_status(request: HttpRequest, run_id: int) -> HttpResponse:
    """One run's status (polled while it waits for the back office)."""
    run = run_get_for_user(user=request.user, run_id=run_id)
    response = render(request, "actions/_run_status.html", {"run": run})
    if run.status == RunStatus.SUCCEEDED:
        # The product changed (a released reserve, a new tariff): the card's products
        # re-fetch themselves instead of showing the figures from before the action.
        response["HX-Trigger"] = "products-changed"
    return response


@login_required
@require_GET
def case_runs(request: HttpRequest, case_id: int) -> HttpResponse:
    """The «recent actions» panel of a case page (an htmx fragment)."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    return render(
        request,
        "actions/_case_runs.html",
        {"case": case, "runs": runs_for_case(user=request.user, case=case)},
    )


@login_required
@require_POST
def client_verify(request: HttpRequest, product_id: int) -> HttpResponse:
    """Security marks the client verified; the panel is re-rendered with the new decisions."""
    ctx = _context(request, product_id)
    try:
        client_flag_set(
            actor=request.user,
            client=ctx["client"],
            flag=ClientFlagKind.SECURITY_VERIFIED,
            note=request.POST.get("note", ""),
            request=request,
        )
    except ServiceError as exc:
        return HttpResponse(
            " ".join(m for msgs in exc.message_dict.values() for m in msgs), status=403
        )
    response = _render_panel(request, product_id)
    response["HX-Trigger"] = "actions-changed"
    return response


@login_required
@require_GET
def matrix(request: HttpRequest) -> HttpResponse:
    """The whole policy as a table: actions × channels × roles (supervisors, seniors)."""
    roles, channels, rows = policy_matrix(user=request.user)
    return render(
        request,
        "actions/matrix.html",
        {"roles": roles, "channels": channels, "rows": rows},
    )


@csrf_exempt
@require_POST
def demo_backoffice(request: HttpRequest) -> HttpResponse:
    """The demo back office's webhook endpoint (signed requests only; see backoffice.py)."""
    status, answer = backoffice.receive(
        body=request.body,
        timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        key=request.headers.get(IDEMPOTENCY_HEADER, ""),
    )
    return JsonResponse(answer, status=status, json_dumps_params={"ensure_ascii": False})
