"""E-mail in and out against real servers: a client's e-mail delivered into a Dovecot
mailbox becomes a case; the operator's reply goes out through SMTP threaded and signed and
lands in the client's Dovecot mailbox; the client's answer joins the same case; noise
(auto-replies, duplicates, floods, bounces) never opens a case or gets an answer."""

import pytest
from django.core.files.storage import default_storage

from otklik.cases.models import AuthorKind, Case, MessageVisibility
from otklik.clients.models import ChannelKind, ContactPoint
from otklik.mail import outbound
from otklik.mail.crypto import open_password
from otklik.mail.imap import poll_mailbox
from otklik.mail.models import IgnoreReason, MailDirection, MailMessage, MailStatus
from tests.factories import ClientFactory
from tests.mail.messages import PDF, client_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def ivan(accounts):
    person = ClientFactory(first_name="Иван")
    ContactPoint.objects.create(client=person, kind=ChannelKind.EMAIL, value=accounts["client"][0])
    return person


def _deliver(dovecot, accounts, raw: bytes) -> None:
    address, password = accounts["support"]
    dovecot.append(address, password, raw)


def test_thread_in_and_out_through_dovecot_and_smtp(
    dovecot, smtp, accounts, mailbox, ivan, cast, settings
):
    settings.MEDIA_ROOT = str(dovecot.root / "media")
    client_address, client_password = accounts["client"]
    raw, first_id = client_mail(
        sender=client_address,
        to=mailbox.address,
        subject="Не пришёл перевод",
        text="Добрый день! Перевод от 1 марта не пришёл.\n\n> старое письмо\n> ещё",
        html="<p>Добрый день! <script>alert(1)</script><img src='https://tracker.example/p.gif'>"
        "<img src='cid:logo@mail.test'></p>",
        inline_png=True,
        attachments=[("выписка.pdf", "application/pdf", PDF), ("run.exe", "application/x", b"MZ")],
    )
    _deliver(dovecot, accounts, raw)
    assert poll_mailbox(mailbox=mailbox) == 1

    mail = MailMessage.objects.get(direction=MailDirection.INBOUND, message_id=first_id)
    case = mail.case
    assert case.client == ivan and case.channel == ChannelKind.EMAIL
    assert case.team == cast.team_a and case.subject == "Не пришёл перевод"
    # Plain text preferred, the quoted history folded off, the HTML defused.
    assert mail.body_text == "Добрый день! Перевод от 1 марта не пришёл."
    assert mail.quoted_text.startswith("> старое письмо")
    assert "script" not in mail.body_html and "tracker.example" not in mail.body_html
    assert "cid:logo@mail.test" in mail.body_html
    # The PDF and the inline image are kept (checked like chat files); the .exe is not.
    kept = {a.name: a for a in mail.attachments.all()}
    assert set(kept) == {"выписка.pdf", "image.png"} and kept["image.png"].inline
    assert default_storage.open(kept["выписка.pdf"].file.name).read() == PDF
    client_message = case.messages.get(author_kind=AuthorKind.CLIENT)
    assert client_message.body.startswith("Добрый день! Перевод от 1 марта не пришёл.")
    assert "выписка.pdf" in client_message.body
    note = case.messages.get(author_kind=AuthorKind.SYSTEM)
    assert note.visibility == MessageVisibility.INTERNAL and "run.exe" in note.body

    # The same message polled again (UID state lost) is not taken twice.
    type(mailbox).objects.filter(pk=mailbox.pk).update(last_uid=0)
    mailbox.refresh_from_db()
    assert poll_mailbox(mailbox=mailbox) == 0
    assert MailMessage.objects.filter(message_id=first_id).count() == 1

    # The operator answers; it goes out through SMTP into the client's mailbox, threaded.
    reply = outbound.reply_send(actor=cast.alice, case=case, body="Иван, перевод найден.")
    assert outbound.deliver(reply.pk) == "sent"
    [received] = dovecot.wait_for(client_address, client_password, 1)
    assert received["In-Reply-To"] == f"<{first_id}>"
    assert f"<{first_id}>" in received["References"]
    assert received["Subject"] == f"Re: Не пришёл перевод [№{case.pk}]"
    assert received["Message-ID"] == f"<{reply.message_id}>"
    body = received.get_body(preferencelist=("plain",)).get_content()
    assert "Иван, перевод найден." in body and "служба поддержки банка" in body
    assert case.messages.filter(author=cast.alice, visibility="public").exists()

    # The client answers from their mail program: the answer joins the same case.
    answer, answer_id = client_mail(
        sender=client_address,
        to=mailbox.address,
        subject=received["Subject"],
        text="Спасибо, деньги пришли.\n\nOn Mon, 1 Mar 2027 Bank wrote:\n> Иван, перевод найден.",
        in_reply_to=received["Message-ID"],
        references=f"{received['References']} {received['Message-ID']}",
    )
    _deliver(dovecot, accounts, answer)
    assert poll_mailbox(mailbox=mailbox) == 1
    assert MailMessage.objects.get(message_id=answer_id).case == case
    assert case.messages.filter(body="Спасибо, деньги пришли.").exists()
    assert Case.objects.filter(client=ivan).count() == 1

    # The client's out-of-office answers our reply: stored, but no case and no answer.
    auto, auto_id = client_mail(
        sender=client_address,
        to=mailbox.address,
        subject="Автоответ: в отпуске",
        text="Я в отпуске до понедельника.",
        in_reply_to=received["Message-ID"],
        headers={"Auto-Submitted": "auto-replied"},
    )
    _deliver(dovecot, accounts, auto)
    poll_mailbox(mailbox=mailbox)
    row = MailMessage.objects.get(message_id=auto_id)
    assert row.status == MailStatus.IGNORED and row.ignore_reason == IgnoreReason.AUTO_REPLY
    assert row.case is None
    assert not case.messages.filter(body__contains="в отпуске").exists()
    assert MailMessage.objects.filter(direction=MailDirection.OUTBOUND).count() == 1


def test_unknown_sender_gets_a_case_to_identify(dovecot, accounts, mailbox):
    raw, message_id = client_mail(
        sender="stranger@elsewhere.test", to=mailbox.address, subject="Вопрос", text="Здравствуйте"
    )
    _deliver(dovecot, accounts, raw)
    poll_mailbox(mailbox=mailbox)
    mail = MailMessage.objects.get(message_id=message_id)
    assert mail.sender_known is False and mail.case is not None
    assert mail.case.client.contacts.get().value == "stranger@elsewhere.test"
    note = mail.case.messages.get(visibility=MessageVisibility.INTERNAL)
    assert "stranger@elsewhere.test" in note.body


def test_subject_reference_threads_only_for_the_cases_client(mailbox, ivan, accounts):
    from otklik.mail.inbound import mail_receive

    first, _id = client_mail(
        sender=accounts["client"][0], to=mailbox.address, subject="Карта", text="Не работает"
    )
    case = mail_receive(mailbox=mailbox, raw=first)[0].case
    again, _id = client_mail(
        sender=accounts["client"][0],
        to=mailbox.address,
        subject=f"Re: Карта [№{case.pk}]",
        text="?",
    )
    assert mail_receive(mailbox=mailbox, raw=again)[0].case == case
    forged, _id = client_mail(
        sender="someone@evil.test", to=mailbox.address, subject=f"[№{case.pk}]", text="впишите меня"
    )
    assert mail_receive(mailbox=mailbox, raw=forged)[0].case != case


def test_a_flood_from_one_sender_is_set_aside(mailbox, ivan, accounts, settings):
    from otklik.mail.inbound import mail_receive

    settings.OTKLIK_MAIL_SENDER_PER_HOUR = 2
    rows = [
        mail_receive(
            mailbox=mailbox,
            raw=client_mail(
                sender=accounts["client"][0], to=mailbox.address, subject=f"№ {n}", text="спам"
            )[0],
        )[0]
        for n in range(4)
    ]
    assert [r.status for r in rows] == ["received", "received", "ignored", "ignored"]
    assert rows[3].ignore_reason == IgnoreReason.RATE_LIMITED and rows[3].case is None


def test_mail_from_our_own_mailbox_is_a_loop(mailbox):
    from otklik.mail.inbound import mail_receive

    raw, _id = client_mail(sender=mailbox.address, to=mailbox.address, subject="x", text="x")
    row = mail_receive(mailbox=mailbox, raw=raw)[0]
    assert row.ignore_reason == IgnoreReason.LOOP and row.case is None


def test_refused_recipient_and_a_later_bounce_come_back_onto_the_case(
    dovecot, smtp, accounts, mailbox, ivan, cast
):
    from otklik.mail.inbound import mail_receive

    raw, _id = client_mail(
        sender=accounts["client"][0], to=mailbox.address, subject="Справка", text="Нужна справка"
    )
    case = mail_receive(mailbox=mailbox, raw=raw)[0].case
    # The client's address is gone: the server refuses the recipient at once.
    smtp.handler.passwords.pop(accounts["client"][0])
    reply = outbound.reply_send(actor=cast.alice, case=case, body="Справка готова")
    assert outbound.deliver(reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.status == MailStatus.FAILED and "550" in reply.error
    note = case.messages.filter(author_kind=AuthorKind.SYSTEM).latest("id")
    assert "не доставлено" in note.body or "not delivered" in note.body

    # A delivery report arriving later about another reply marks that one failed too.
    second = outbound.reply_send(actor=cast.alice, case=case, body="Ещё раз")
    dsn = (
        "From: MAILER-DAEMON@mail.test\r\nTo: " + mailbox.address + "\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mail.test>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message failed.\r\n'
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.test\r\n\r\n"
        "Final-Recipient: rfc822; x@mail.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox full\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{second.message_id}>\r\nSubject: x\r\n\r\n--b--\r\n"
    ).encode()
    row = mail_receive(mailbox=mailbox, raw=dsn)[0]
    assert row.ignore_reason == IgnoreReason.BOUNCE and row.case == case
    second.refresh_from_db()
    assert second.status == MailStatus.FAILED and "mailbox full" in second.error
    assert Case.objects.filter(client=ivan).count() == 1


def test_credentials_are_stored_encrypted(mailbox, accounts):
    assert accounts["support"][1] not in mailbox.imap_password_sealed
    assert open_password(mailbox.imap_password_sealed) == accounts["support"][1]
