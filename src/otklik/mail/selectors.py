"""Reads on e-mail: a case's thread (following the case's visibility) and its files."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from otklik.accounts.models import User
from otklik.cases.models import Case
from otklik.cases.selectors import case_get_for_user
from otklik.mail.models import MailAttachment, MailMessage, MailStatus


def case_mail(*, case: Case) -> QuerySet[MailMessage]:
    """The case's e-mails in and out (the ignored ones too: a bounce explains a failure)."""
    return (
        MailMessage.objects.filter(case=case)
        .select_related("author", "mailbox")
        .prefetch_related(Prefetch("attachments", queryset=MailAttachment.objects.order_by("id")))
        .order_by("created_at", "pk")
    )


def has_mail(*, case: Case) -> bool:
    return MailMessage.objects.filter(case=case).exclude(status=MailStatus.IGNORED).exists()


def attachment_get_for_user(*, user: User, attachment_id: int) -> MailAttachment:
    """A file of an e-mail on a case the user may see; 404 otherwise."""
    attachment = MailAttachment.objects.select_related("message").filter(pk=attachment_id).first()
    if attachment is None or attachment.message.case_id is None:
        raise Http404("file not found")
    case_get_for_user(user=user, case_id=attachment.message.case_id)
    return attachment
