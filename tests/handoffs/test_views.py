"""The handoff pages over HTTP: queue, detail, downloads, the case panel, reachability."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from otklik.audit.models import AuditRecord
from otklik.cases.services import interaction_register
from otklik.clients.models import ChannelKind, Reachability
from otklik.handoffs import services
from otklik.handoffs.models import Handoff

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF"


@pytest.fixture
def handoff(staff, case):
    return services.handoff_send(
        actor=staff.alice,
        case=case,
        department=staff.security,
        question="Клиент за границей, не можем дозвониться",
        files=[SimpleUploadedFile("скан.pdf", PDF)],
    )


def test_queue_lists_own_department_with_time_left(client, staff, handoff):
    client.force_login(staff.sam)
    page = client.get(reverse("handoffs:department_queue")).content.decode()
    assert "Клиент за границей" in page
    left = re.search(r'class="nowrap handoff-left">([^<]+)<', page).group(1)
    assert left.strip() not in ("", "—")  # the SLA's «осталось …» label
    client.force_login(staff.tom)
    page = client.get(reverse("handoffs:department_queue")).content.decode()
    assert "Клиент за границей" not in page
    client.force_login(staff.alice)
    assert client.get(reverse("handoffs:department_queue")).status_code == 403


@pytest.mark.parametrize("name", ["detail", "take", "answer", "ask", "reply", "cancel"])
def test_other_department_gets_404_on_every_route(client, staff, handoff, name):
    client.force_login(staff.tom)
    url = reverse(f"handoffs:{name}", args=[handoff.pk])
    response = client.get(url) if name == "detail" else client.post(url, {"answer": "x"})
    assert response.status_code == 404
    client.force_login(staff.bob)
    response = client.get(url) if name == "detail" else client.post(url, {"answer": "x"})
    assert response.status_code == 404
    assert Handoff.objects.get(pk=handoff.pk).status == "open"


def test_attachment_download_is_permission_checked(client, staff, handoff):
    attachment = handoff.attachments.get()
    url = reverse("handoffs:attachment", args=[handoff.pk, attachment.pk])
    client.force_login(staff.tom)
    assert client.get(url).status_code == 404
    client.force_login(staff.sam)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    assert AuditRecord.objects.filter(actor=staff.sam, action="handoff.attachment").exists()


def test_detail_shows_reachability_and_live_channel_and_writes_audit(
    client, staff, case, handoff, client_abroad
):
    phone = client_abroad.contacts.get(kind=ChannelKind.PHONE)
    services.case_contact_set_reachability(
        actor=staff.alice,
        case=case,
        contact=phone,
        reachability=Reachability.LIMITED,
        note="за границей: короткие номера не проходят",
    )
    interaction_register(actor=staff.alice, client=client_abroad, channel="chat", case=case)
    client.force_login(staff.sam)
    page = client.get(reverse("handoffs:detail", args=[handoff.pk])).content.decode()
    assert "за границей: короткие номера не проходят" in page
    assert f"в чате с оператором {staff.alice.display_name} с" in page
    assert "скан.pdf" in page
    assert AuditRecord.objects.filter(actor=staff.sam, action="handoff.view").exists()


def test_workflow_over_http(client, staff, case, handoff):
    client.force_login(staff.sam)
    assert client.post(reverse("handoffs:take", args=[handoff.pk])).status_code == 302
    response = client.post(reverse("handoffs:answer", args=[handoff.pk]), {"answer": ""})
    assert response.status_code == 422
    response = client.post(
        reverse("handoffs:answer", args=[handoff.pk]),
        {"answer": "Звоните на 900", "attachments": SimpleUploadedFile("evil.exe", b"MZ")},
    )
    assert response.status_code == 422 and "evil.exe" in response.content.decode()
    response = client.post(
        reverse("handoffs:answer", args=[handoff.pk]), {"answer": "Звоните на 900"}
    )
    assert response.status_code == 302
    client.force_login(staff.alice)
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    assert "Звоните на 900" in page and 'id="handoff-panel"' in page
    assert f'hx-trigger="live:case-{case.pk} from:body"' in page


def test_send_from_case_panel_and_banner(client, staff, case):
    client.force_login(staff.alice)
    url = reverse("handoffs:send", args=[case.pk])
    response = client.post(url, {"department": "", "question": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Выберите подразделение" in response.content.decode()
    response = client.post(
        url,
        {"department": staff.security.pk, "question": "Проверьте карту"},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Redirect"] == reverse("workspace:case_detail", args=[case.pk])
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    banner = re.search(r'<p class="handoff-banner">(.*?)</p>', page, re.S).group(1)
    assert "Ждёт подразделение" in banner and "Служба безопасности" in banner
    assert banner.strip().count(",") == 1  # «…: СБ, осталось 3 ч 10 мин»
    client.force_login(staff.bob)
    assert client.post(url, {"department": staff.security.pk, "question": "x"}).status_code == 404


def test_owner_replies_and_watches_from_panel(client, staff, case, handoff):
    services.handoff_ask_owner(actor=staff.sam, handoff=handoff, question="Клиент в чате?")
    client.force_login(staff.olga)
    response = client.post(
        reverse("handoffs:watch", args=[case.pk]), {"watch": "1"}, HTTP_HX_REQUEST="true"
    )
    assert "На контроле" in response.content.decode()
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    assert "Клиент в чате?" in page
    response = client.post(
        reverse("handoffs:reply", args=[handoff.pk]), {"reply": "Да"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    handoff.refresh_from_db()
    assert handoff.status == "in_work"


def test_reachability_form_for_specialist(client, staff, case, handoff, client_abroad):
    phone = client_abroad.contacts.get(kind=ChannelKind.PHONE)
    client.force_login(staff.sam)
    url = reverse("handoffs:reachability", args=[case.pk, phone.pk])
    response = client.post(
        url, {"reachability": "unreachable", "note": "не берёт трубку"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "не берёт трубку" in response.content.decode()
    response = client.post(url, {"reachability": "nope"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    client.force_login(staff.tom)
    assert client.post(url, {"reachability": "reachable"}).status_code == 404


def test_user_text_is_escaped(client, staff, case):
    services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="<script>x()</script>"
    )
    client.force_login(staff.sam)
    page = client.get(reverse("handoffs:department_queue")).content.decode()
    assert "<script>x()" not in page and "&lt;script&gt;" in page
