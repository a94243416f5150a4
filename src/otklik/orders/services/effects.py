"""The effects of the workflow's steps, called by the step executors (orders/steps.py)."""

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from otklik.orders import pdf
from otklik.orders.models import (
    DocumentKind,
    Order,
    OrderDocument,
    StepStatus,
)
from otklik.orders.services.common import (
    _case_event,
    _day,
    _subtitle,
    document_store,
    portal_order_url,
)
from otklik.orders.services.drafting import (
    _notify_client,
)

# --- step effects (called by executors) -----------------------------------------------------


def closure_notice_issue(*, order: Order, now: datetime) -> OrderDocument:
    """The notice of the ИИС closure for the tax office, with the open and close dates."""
    existing = OrderDocument.objects.filter(order=order, kind=DocumentKind.CLOSURE_NOTICE).first()
    if existing is not None:
        return existing
    fields = order.fields
    closed_on = None
    close_step = order.steps.filter(code="close_contract", status=StepStatus.DONE).first()
    if close_step and close_step.result.get("closed_on"):
        closed_on = date.fromisoformat(close_step.result["closed_on"])
    product = order.product
    if closed_on is None and product is not None:
        closed_on = product.closed_on
    closed_on = closed_on or timezone.localdate(now)
    opened_on = product.opened_on if product is not None else None
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Notice of the closure of an individual investment account")
        facts = [
            (_("Client"), fields.get("client_full_name", "")),
            (_("Date of birth"), fields.get("client_birth_date", "")),
            (_("Contract"), fields.get("contract_number", "")),
            (pgettext("fund", "Provider"), fields.get("provider", "")),
            (_("Account opened"), _day(opened_on) or fields.get("contract_open_date", "")),
            (_("Account closed"), _day(closed_on)),
            (_("Date of the notice"), _day(timezone.localdate(now))),
            (
                _("On the basis of"),
                _("order %(ref)s signed %(date)s")
                % {
                    "ref": order.reference,
                    "date": _day(timezone.localdate(order.signed_at)) if order.signed_at else "",
                },
            ),
        ]
        text = _(
            "We hereby notify that the individual investment account under contract "
            "%(contract)s, opened on %(opened)s, was closed on %(closed)s. The notice is "
            "issued for submission to the tax office; information about the closure of the "
            "account is also sent to the tax office by the provider."
        ) % {
            "contract": fields.get("contract_number", ""),
            "opened": _day(opened_on) or fields.get("contract_open_date", ""),
            "closed": _day(closed_on),
        }
        frozen = [u for u in fields.get("fund_units", []) if u.get("frozen")]
        if frozen:
            text += "\n\n" + _(
                "The value of the blocked fund units stays on the contract until they are "
                "unblocked and will then be paid out to the client's bank account %(account)s."
            ) % {"account": fields.get("bank_account_number", "")}
        content = pdf.render_document(
            title=title,
            subtitle=_subtitle(order, timezone.localdate(now)),
            facts=facts,
            text=text,
        )
    return document_store(
        order=order, kind=DocumentKind.CLOSURE_NOTICE, title=title, content=content, now=now
    )


def closure_notice_announce(*, order: Order, document: OrderDocument, now: datetime) -> None:
    """Tell the client the notice is in the personal cabinet (once per order)."""
    _case_event(order.case, None, "order_closure_notice", order.reference, now)
    link = portal_order_url(order)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your ИИС is closed: the notice for the tax office is ready")
        email_body = _(
            "%(name)s, hello!\n\nThe individual investment account %(contract)s is closed. "
            "The notice with the dates of opening and closing for the tax office is in the "
            "personal cabinet:\n%(link)s"
        ) % {
            "name": order.client.greeting_name,
            "contract": order.fields.get("contract_number", ""),
            "link": link,
        }
        sms = _("The ИИС is closed; the notice for the tax office is in your cabinet: %(link)s") % {
            "link": link
        }
    _notify_client(order, f"order-notice:{order.pk}", subject, email_body, sms)


def tax_notice_record(*, order: Order, now: datetime) -> None:
    """Record that the tax office was notified of the closure."""
    _case_event(order.case, None, "order_tax_notice", order.reference, now)


def card_terms_record(*, order: Order, now: datetime) -> None:
    _case_event(
        order.case,
        None,
        "order_card_terms",
        f"{order.reference}: {order.fields.get('individual_terms', '')}",
        now,
    )
