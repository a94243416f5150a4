"""mail.selectors: a case's thread is that case's only, in order, with its files in order;
an e-mail's file is shown only to staff who may see its case."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from otklik.mail.models import MailAttachment, Mailbox, MailDirection, MailMessage, MailStatus
from otklik.mail.selectors import attachment_get_for_user, case_mail, has_mail
from tests.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(db):
    return Mailbox.objects.create(name="Поддержка", address="help@bank.example")


def _mail(mailbox, case, n, *, status=MailStatus.RECEIVED, at=None, author=None):
    return MailMessage.objects.create(
        mailbox=mailbox,
        direction=MailDirection.INBOUND,
        status=status,
        message_id=f"<{n}@example>",
        from_address="client@example.com",
        subject=f"Письмо {n}",
        case=case,
        author=author,
        created_at=at or timezone.now(),
    )


def _file(message, name):
    return MailAttachment.objects.create(
        message=message, name=name, content_type="text/plain", size=1, file=f"mail/{name}"
    )


def test_a_cases_thread_is_its_own_in_time_order_with_files_in_order(cast, mailbox):
    one = make_case(actor=cast.alice)
    two = make_case(actor=cast.alice)
    now = timezone.now()
    late = _mail(mailbox, one, 1, at=now)
    early = _mail(mailbox, one, 2, at=now - timedelta(minutes=5), author=cast.alice)
    same_time = _mail(mailbox, one, 3, at=now, status=MailStatus.IGNORED)
    _mail(mailbox, two, 4, at=now)
    first = _file(late, "a.txt")
    second = _file(late, "b.txt")

    thread = list(case_mail(case=one))
    assert thread == [early, late, same_time]  # the ignored one too
    assert list(thread[1].attachments.all()) == [first, second]
    assert thread[0].author == cast.alice
    assert thread[0].mailbox == mailbox


def test_has_mail_counts_only_this_cases_mail_that_is_not_ignored(cast, mailbox):
    one = make_case(actor=cast.alice)
    two = make_case(actor=cast.alice)
    assert not has_mail(case=one)
    _mail(mailbox, one, 1, status=MailStatus.IGNORED)
    assert not has_mail(case=one)
    _mail(mailbox, two, 2)
    assert not has_mail(case=one)
    _mail(mailbox, one, 3, status=MailStatus.SENT)
    assert has_mail(case=one)


def test_a_file_is_given_to_staff_who_see_its_case_only(cast, mailbox):
    case = make_case(actor=cast.alice)
    attachment = _file(_mail(mailbox, case, 1), "выписка.pdf")

    assert attachment_get_for_user(user=cast.alice, attachment_id=attachment.pk) == attachment
    assert attachment_get_for_user(user=cast.olga, attachment_id=attachment.pk) == attachment
    with pytest.raises(Http404):
        attachment_get_for_user(user=cast.bob, attachment_id=attachment.pk)
    with pytest.raises(Http404):
        attachment_get_for_user(user=cast.sam, attachment_id=attachment.pk)


def test_a_file_of_an_unfiled_mail_or_an_unknown_file_is_not_found(cast, mailbox):
    unfiled = _file(_mail(mailbox, None, 1, status=MailStatus.IGNORED), "spam.txt")
    with pytest.raises(Http404):
        attachment_get_for_user(user=cast.sue, attachment_id=unfiled.pk)
    with pytest.raises(Http404):
        attachment_get_for_user(user=cast.sue, attachment_id=unfiled.pk + 1000)
