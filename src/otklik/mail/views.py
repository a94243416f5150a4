"""The e-mail panel of a case page (htmx fragment): the thread, and the reply form."""

import re

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from otklik.audit.services import audit_record
from otklik.cases.selectors import can_edit_case, case_get_for_user
from otklik.common.errors import ServiceError
from otklik.common.uploads import file_download
from otklik.mail import outbound
from otklik.mail.parsing import sanitise_for_display
from otklik.mail.selectors import attachment_get_for_user, case_mail

VIA = "workspace"
_CID = re.compile(r'src="cid:([^"]+)"')


def _html_with_images(mail) -> str:
    """The sanitised HTML with its inline images pointing at our file view (sanitised
    again after the rewrite, so only our own URLs end up in it)."""
    by_cid = {a.content_id: a for a in mail.attachments.all() if a.content_id}

    def swap(match: re.Match) -> str:
        found = by_cid.get(match.group(1))
        if found is None:
            return 'src=""'
        return 'src="' + reverse("mail:attachment", args=[found.pk]) + '"'

    html = _CID.sub(swap, mail.body_html)
    return sanitise_for_display(html, image_prefix=reverse("mail:attachment", args=[0])[:-1])


def _panel(request: HttpRequest, case, *, errors=None, body: str = "", status: int = 200):
    mails = list(case_mail(case=case))
    for mail in mails:
        mail.safe_html = mark_safe(_html_with_images(mail)) if mail.body_html else ""  # noqa: S308
    context = {
        "case": case,
        "mails": mails,
        "errors": errors or [],
        "body": body,
        "can_reply": can_edit_case(user=request.user, case=case),
    }
    return render(request, "mail/_case_mail.html", context, status=status)


@login_required
@require_GET
def case_panel(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    audit_record(
        actor=request.user, action="case.mail", via=VIA, client_id=case.client_id, obj=case,
        request=request,
    )  # fmt: skip
    return _panel(request, case)


@login_required
@require_POST
def reply(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    body = request.POST.get("body", "")
    try:
        outbound.reply_send(actor=request.user, case=case, body=body)
    except ServiceError as exc:
        return _panel(request, case, errors=[str(m) for m in exc.messages], body=body, status=422)
    return _panel(request, case)


@login_required
@require_GET
def attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    found = attachment_get_for_user(user=request.user, attachment_id=attachment_id)
    return file_download(
        found.file.open("rb"),
        name=found.name,
        content_type=found.content_type,
        inline=found.content_type.startswith("image/"),
    )
