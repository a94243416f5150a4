"""Order pages: the operator's actions on the case page, and the client's pages in the portal.

Views translate HTTP into selector/service calls. Staff reach an order through the case
visibility check; a client through the portal session (another client's order: 404).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from otklik.audit.services import audit_record
from otklik.cases.selectors import case_get_for_user
from otklik.clients.models import Product
from otklik.common.errors import ServiceError
from otklik.common.web import service_errors as _errors
from otklik.orders import selectors, services
from otklik.portal.auth import portal_login_required
from otklik.portal.selectors import portal_unread_total

UNPROCESSABLE = 422
FIELD_PREFIX = "of_"
SESSION_CHALLENGE = "otklik_order_challenge"


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "-"


def _int(raw) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _case_url(case_id: int, query: dict | None = None) -> str:
    url = reverse("workspace:case_detail", args=[case_id])
    if query:
        url += "?" + urlencode(query)
    return url + "#orders"


def _pdf_response(request, document, *, via: str, actor=None) -> HttpResponse:
    try:
        content = services.document_read(document)
    except services.DocumentDamaged:
        return HttpResponse(
            _("The document failed its integrity check; it is not shown. Support is informed."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    audit_record(
        actor=actor,
        action="order.document.view",
        via=via,
        client_id=document.order.client_id,
        obj=document,
        request=request,
        detail=f"{document.kind} sha256 {document.sha256[:16]}",
    )
    response = HttpResponse(content, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    response["X-Content-SHA256"] = document.sha256
    response["Cache-Control"] = "private, no-store"
    return response


# --- staff ---------------------------------------------------------------------------------


@login_required
@require_POST
def draft(request: HttpRequest, case_id: int) -> HttpResponse:
    """Draft an order on the case (and, with «send», send it to the client at once)."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    code = request.POST.get("order_template", "")
    product_id = _int(request.POST.get("order_product"))
    product = (
        Product.objects.filter(pk=product_id, client_id=case.client_id).first()
        if product_id
        else None
    )
    overrides = {
        key.removeprefix(FIELD_PREFIX): value
        for key, value in request.POST.items()
        if key.startswith(FIELD_PREFIX)
    }
    try:
        order = services.order_draft(
            actor=request.user,
            case=case,
            template_code=code,
            product=product,
            overrides=overrides,
            send=bool(request.POST.get("send")),
        )
    except ServiceError as exc:
        for field, message in _errors(exc).items():
            messages.error(request, f"{field}: {message}" if field != "form" else message)
        query = {"order_template": code, "order_product": product_id or ""}
        query.update({FIELD_PREFIX + k: v for k, v in overrides.items()})
        return HttpResponseRedirect(_case_url(case.pk, query))
    if order.status == "sent_for_signature":
        messages.success(
            request,
            _("Order %(ref)s is sent to the client's personal cabinet for signature.")
            % {"ref": order.reference},
        )
    else:
        messages.success(request, _("Order %(ref)s is drafted.") % {"ref": order.reference})
    return HttpResponseRedirect(_case_url(case.pk))


@login_required
@require_POST
def preview(request: HttpRequest, case_id: int) -> HttpResponse:
    """Show the document with the chosen template, product and corrections (nothing saved)."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    query = {
        key: value
        for key, value in request.POST.items()
        if key in ("order_template", "order_product") or key.startswith(FIELD_PREFIX)
    }
    return HttpResponseRedirect(_case_url(case.pk, query))


def _staff_order_action(request, order_id: int, action, success: str) -> HttpResponse:
    order = selectors.order_get_for_user(user=request.user, order_id=order_id)
    try:
        action(actor=request.user, order=order)
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        messages.success(request, success % {"ref": order.reference})
    return HttpResponseRedirect(_case_url(order.case_id))


@login_required
@require_POST
def send(request: HttpRequest, order_id: int) -> HttpResponse:
    return _staff_order_action(
        request,
        order_id,
        services.order_send_for_signature,
        _("Order %(ref)s is sent to the client's personal cabinet for signature."),
    )


@login_required
@require_POST
def cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    return _staff_order_action(
        request, order_id, services.order_cancel, _("Order %(ref)s is withdrawn.")
    )


@login_required
@require_POST
def step_retry(request: HttpRequest, step_id: int) -> HttpResponse:
    step = selectors.order_step_get_for_user(user=request.user, step_id=step_id)
    try:
        services.order_step_retry(actor=request.user, step=step)
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        messages.success(request, _("The step will be tried again now."))
    return HttpResponseRedirect(_case_url(step.order.case_id))


@login_required
@require_POST
def step_resolve(request: HttpRequest, step_id: int) -> HttpResponse:
    step = selectors.order_step_get_for_user(user=request.user, step_id=step_id)
    try:
        services.order_step_resolve(
            actor=request.user, step=step, note=request.POST.get("note", "")
        )
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        messages.success(request, _("The step is marked done; the workflow goes on."))
    return HttpResponseRedirect(_case_url(step.order.case_id))


@login_required
@require_POST
def unfreeze(request: HttpRequest, order_id: int) -> HttpResponse:
    """Demo: the back office reports the fund units unblocked."""
    order = selectors.order_get_for_user(user=request.user, order_id=order_id)
    try:
        services.order_assets_unfreeze(actor=request.user, order=order)
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        messages.success(request, _("The fund units are marked unblocked."))
    return HttpResponseRedirect(_case_url(order.case_id))


@login_required
@require_GET
def document(request: HttpRequest, order_id: int, document_id: int) -> HttpResponse:
    order = selectors.order_get_for_user(user=request.user, order_id=order_id)
    doc = selectors.order_document_get(order=order, document_id=document_id)
    return _pdf_response(request, doc, via="workspace", actor=request.user)


# --- the client (portal) ---------------------------------------------------------------------


def _portal_page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    client = request.portal_client
    base = {
        "portal_client": client,
        "unread_total": portal_unread_total(client=client),
        "orders_to_sign": selectors.portal_orders_to_sign(client=client),
    }
    return render(request, template, {**base, **context}, status=status)


@portal_login_required
@require_GET
def portal_list(request: HttpRequest) -> HttpResponse:
    orders = selectors.portal_orders(client=request.portal_client)
    return _portal_page(request, "orders/portal_list.html", {"orders": orders})


def _challenge(request, order) -> dict | None:
    challenge = request.session.get(SESSION_CHALLENGE) or {}
    return challenge if challenge.get("order_id") == order.pk else None


def _portal_detail(request, order, *, status: int = 200, errors=None) -> HttpResponse:
    client = request.portal_client
    audit_record(
        actor=None,
        action="order.view",
        via="portal",
        client_id=client.pk,
        obj=order,
        request=request,
    )
    from otklik.portal.services import show_codes_enabled

    challenge = _challenge(request, order)
    return _portal_page(
        request,
        "orders/portal_detail.html",
        {
            "order": order,
            "client_status": selectors.client_order_status(order.status),
            "steps": selectors.step_rows(order),
            "notice": selectors.closure_notice(order),
            "challenge": challenge,
            "demo_code": challenge.get("demo_code") if challenge and show_codes_enabled() else None,
            "errors": errors or {},
        },
        status=status,
    )


@portal_login_required
@require_GET
def portal_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    """The order: the document to read, signing with a code, then the workflow steps."""
    order = selectors.portal_order_get(client=request.portal_client, order_id=order_id)
    return _portal_detail(request, order)


@portal_login_required
@require_POST
def portal_code(request: HttpRequest, order_id: int) -> HttpResponse:
    client = request.portal_client
    order = selectors.portal_order_get(client=client, order_id=order_id)
    try:
        challenge = services.order_signing_code_request(client=client, order=order, ip=_ip(request))
    except ServiceError as exc:
        return _portal_detail(request, order, status=UNPROCESSABLE, errors=_errors(exc))
    request.session[SESSION_CHALLENGE] = {
        "order_id": order.pk,
        "code_id": challenge.code_id,
        "channel": challenge.channel,
        "address_hint": challenge.address_hint,
        "demo_code": challenge.demo_code,
    }
    return HttpResponseRedirect(reverse("orders:portal_detail", args=[order.pk]) + "#sign")


@portal_login_required
@require_POST
def portal_sign(request: HttpRequest, order_id: int) -> HttpResponse:
    client = request.portal_client
    order = selectors.portal_order_get(client=client, order_id=order_id)
    challenge = _challenge(request, order) or {}
    try:
        services.order_sign(
            client=client,
            order=order,
            code_id=challenge.get("code_id"),
            code=request.POST.get("code", ""),
            ip=_ip(request),
        )
    except ServiceError as exc:
        return _portal_detail(request, order, status=UNPROCESSABLE, errors=_errors(exc))
    request.session.pop(SESSION_CHALLENGE, None)
    messages.success(
        request,
        _("The order is signed. Everything else happens automatically; follow the steps here."),
    )
    return HttpResponseRedirect(reverse("orders:portal_detail", args=[order.pk]))


@never_cache
@portal_login_required
@require_GET
def portal_document(request: HttpRequest, order_id: int, document_id: int) -> HttpResponse:
    order = selectors.portal_order_get(client=request.portal_client, order_id=order_id)
    doc = selectors.portal_document_get(order=order, document_id=document_id)
    return _pdf_response(request, doc, via="portal")
