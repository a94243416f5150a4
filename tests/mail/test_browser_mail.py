"""End to end with real servers: a client's e-mail delivered into the bank's Dovecot mailbox
becomes a case; the operator answers from the case page; the answer goes out through SMTP
and arrives in the client's Dovecot mailbox threaded and signed; the client's answer lands
on the same case; the client's auto-reply does not loop."""

import pytest

from otklik.cases.models import Case
from otklik.clients.models import ChannelKind, ContactPoint
from otklik.mail.imap import poll_mailbox
from otklik.mail.models import MailDirection, MailMessage
from tests.factories import ClientFactory
from tests.mail.messages import PDF, client_mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mail_thread_through_the_case_page(
    browser_page, live_server, dovecot, accounts, mailbox, cast, settings, artifacts_dir
):
    settings.MEDIA_ROOT = str(dovecot.root / "media")
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    support, support_pw = accounts["support"]
    address, password = accounts["client"]
    ivan = ClientFactory(last_name="Петров", first_name="Иван")
    ContactPoint.objects.create(client=ivan, kind=ChannelKind.EMAIL, value=address)

    raw, first_id = client_mail(
        sender=address,
        to=support,
        subject="Не пришёл перевод",
        text="Добрый день! Перевод от 1 марта не пришёл.",
        html="<p>Добрый день! <b>Перевод</b> от 1 марта не пришёл.</p>",
        attachments=[("выписка.pdf", "application/pdf", PDF)],
    )
    dovecot.append(support, support_pw, raw)
    assert poll_mailbox(mailbox=mailbox) == 1
    case = Case.objects.get(client=ivan)

    page = browser_page
    page.goto(f"{live_server.url}/login/?next=/cases/{case.pk}/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pass-12345")
    page.locator("main button.btn-primary[type=submit]").click()
    panel = page.locator("#mail-panel")
    panel.locator(".mail-inbound").filter(has_text="Перевод от 1 марта не пришёл").wait_for()
    assert panel.locator(".mail-files").filter(has_text="выписка.pdf").count() == 1
    page.fill("#mail-reply-body", "Иван, перевод найден и зачислен.")
    page.click("#mail-reply-send")
    panel.locator(".mail-outbound[data-status=sent]").wait_for()

    [reply] = dovecot.wait_for(address, password, 1)
    assert reply["In-Reply-To"] == f"<{first_id}>"
    assert reply["Subject"] == f"Re: Не пришёл перевод [№{case.pk}]"
    text = reply.get_body(preferencelist=("plain",)).get_content()
    assert "перевод найден" in text and "служба поддержки банка" in text

    answer, answer_id = client_mail(
        sender=address,
        to=support,
        subject=reply["Subject"],
        text="Спасибо, всё пришло!\n\n> Иван, перевод найден и зачислен.",
        in_reply_to=reply["Message-ID"],
        references=f"<{first_id}> {reply['Message-ID']}",
    )
    dovecot.append(support, support_pw, answer)
    auto, auto_id = client_mail(
        sender=address,
        to=support,
        subject="Out of office",
        text="Я в отпуске.",
        in_reply_to=reply["Message-ID"],
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )
    dovecot.append(support, support_pw, auto)
    assert poll_mailbox(mailbox=mailbox) == 2
    page.reload()
    panel = page.locator("#mail-panel")
    panel.locator(".mail-inbound").filter(has_text="Спасибо, всё пришло!").wait_for()
    assert MailMessage.objects.get(message_id=answer_id).case_id == case.pk
    assert MailMessage.objects.get(message_id=auto_id).case_id is None
    assert Case.objects.filter(client=ivan).count() == 1
    assert MailMessage.objects.filter(direction=MailDirection.OUTBOUND).count() == 1
    assert len(dovecot.messages(address, password)) == 1  # nothing answered the auto-reply
    page.screenshot(path=str(artifacts_dir / "mail_case_thread.png"), full_page=True)
