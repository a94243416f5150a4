"""The SMTP/LMTP receiver for a site's mail gateway (aiosmtpd): mail for our mailboxes is
taken like polled mail; other recipients are refused, so it is no open relay."""

import smtplib

import pytest

from otklik.mail.gateway import gateway
from otklik.mail.models import Mailbox, MailMessage
from tests.mail.messages import client_mail
from tests.mail.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def box(db):
    return Mailbox.objects.create(name="Поддержка", address="help@bank.test")


@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_gateway_takes_mail_for_our_boxes_only(box, lmtp):
    port = free_port()
    controller = gateway("127.0.0.1", port, lmtp=lmtp)
    controller.start()
    try:
        raw, message_id = client_mail(
            sender="client@mail.test", to=box.address, subject="Вопрос", text="Здравствуйте"
        )
        connection = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
        with connection as smtp:
            smtp.sendmail("client@mail.test", [box.address], raw)
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail("client@mail.test", ["victim@elsewhere.test"], raw)
            # The gateway retries: the same message is stored once.
            smtp.sendmail("client@mail.test", [box.address.upper()], raw)
    finally:
        controller.stop()
    mail = MailMessage.objects.get(message_id=message_id)
    assert mail.mailbox == box and mail.case is not None
    assert mail.case.messages.filter(body="Здравствуйте").exists()
