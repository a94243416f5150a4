"""The e-mail panel of a case page and its files follow the case's visibility; a reply
from the panel is recorded and queued; an empty one is refused with a message."""

import pytest
from django.urls import reverse

from otklik.audit.models import AuditRecord
from otklik.mail.inbound import mail_receive
from otklik.mail.models import MailDirection, MailMessage, MailStatus
from tests.mail.messages import PDF, client_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(mailbox, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    raw, _id = client_mail(
        sender="anna@mail.test",
        to=mailbox.address,
        subject="Справка",
        text="Нужна справка <script>x</script>",
        html="<p onclick='x()'>Нужна <b>справка</b></p><img src='cid:logo@mail.test'>",
        inline_png=True,
        attachments=[("справка.pdf", "application/pdf", PDF)],
    )
    return mail_receive(mailbox=mailbox, raw=raw)[0]


def test_panel_and_files_follow_the_case_visibility(client, cast, received):
    case = received.case
    pdf = received.attachments.get(inline=False)
    client.force_login(cast.bob)  # another team's operator
    assert client.get(reverse("mail:case_panel", args=[case.pk])).status_code == 404
    assert client.get(reverse("mail:attachment", args=[pdf.pk])).status_code == 404
    client.force_login(cast.alice)
    panel = client.get(reverse("mail:case_panel", args=[case.pk]))
    html = panel.content.decode()
    assert panel.status_code == 200 and "&lt;script&gt;" in html and "onclick" not in html
    image = received.attachments.get(inline=True)
    assert f'src="{reverse("mail:attachment", args=[image.pk])}"' in html
    assert AuditRecord.objects.filter(action="case.mail", client_id=case.client_id).exists()
    served = client.get(reverse("mail:attachment", args=[pdf.pk]))
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF
    assert "attachment" in served["Content-Disposition"]


def test_reply_from_the_panel_is_recorded_and_queued(client, cast, received):
    case = received.case
    client.force_login(cast.alice)
    url = reverse("mail:reply", args=[case.pk])
    empty = client.post(url, {"body": "  "})
    assert empty.status_code == 422 and 'role="alert"' in empty.content.decode()
    sent = client.post(url, {"body": "Справка готова"})
    assert sent.status_code == 200
    reply = MailMessage.objects.get(direction=MailDirection.OUTBOUND)
    assert reply.status == MailStatus.QUEUED and reply.to_addresses == "anna@mail.test"
    assert reply.body_text.startswith("Справка готова") and "служба поддержки" in reply.body_text
    client.force_login(cast.bob)
    assert client.post(url, {"body": "чужое"}).status_code == 404
