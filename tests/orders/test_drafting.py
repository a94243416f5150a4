"""Drafting an order: fields from the client card, the PDF, storage, access."""

import pytest
from django.urls import reverse

from otklik.audit.models import AuditRecord
from otklik.cases.models import CaseEvent
from otklik.common.errors import ServiceError
from otklik.orders import services
from otklik.orders.models import ImmutableDocumentError, OrderStatus
from tests.factories import make_case
from tests.orders.conftest import make_story_client, pdf_text, portal_login_as


def _draft(case, actor, **kwargs):
    return services.order_draft(actor=actor, case=case, template_code="iis_close_frozen", **kwargs)


def test_draft_takes_fields_from_the_client_card(cast, story_case, igor):
    _client, iis = igor
    order = _draft(story_case, cast.olga)
    assert order.status == OrderStatus.DRAFT
    assert order.product == iis
    fields = order.fields
    assert fields["client_full_name"] == "Кузнецов Игорь Валерьевич"
    assert fields["client_birth_date"] == "12.04.1979"
    assert fields["contract_number"] == "ИИС-2019/044718"
    assert fields["contract_open_date"] == "14.03.2019"
    assert fields["bank_account_number"] == "40817810938000447182"
    assert fields["bank_name"] == "Банк «Меридиан»"
    assert fields["fund_units"] == [
        {
            "name": "ОПИФ «Вершина — Глобальные акции»",
            "number": "ЛС-7781-044718",
            "fund_type": "ОПИФ",
            "units": "1250,334211",
            "frozen": True,
            "value_rub": "184 320,55",
        }
    ]
    assert "операции заблокированы" in order.text
    assert CaseEvent.objects.filter(case=story_case, field="order").exists()
    assert AuditRecord.objects.filter(action="order.draft", actor=cast.olga).exists()


def test_the_pdf_reads_back_with_names_contract_and_dates(cast, story_case):
    order = _draft(story_case, cast.olga, overrides={"note": "Прошу закрыть в этом году"})
    content = services.document_read(order.document)
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert "Распоряжение о закрытии индивидуального инвестиционного счёта" in text
    assert "Кузнецов Игорь Валерьевич" in text
    assert "ИИС-2019/044718" in text
    assert "14.03.2019" in text and "12.04.1979" in text
    assert "40817810938000447182" in text
    assert "Прошу закрыть в этом году" in text
    assert order.reference in text


def test_overrides_only_touch_editable_fields_and_are_validated(cast, story_case):
    with pytest.raises(ServiceError) as err:
        _draft(story_case, cast.olga, overrides={"bank_account_number": "  "})
    assert "bank_account_number" in err.value.message_dict
    order = _draft(story_case, cast.olga, overrides={"client_full_name": "Иванов"})
    assert order.fields["client_full_name"] == "Кузнецов Игорь Валерьевич"


def test_a_specialist_cannot_draft(cast, story_case):
    with pytest.raises(ServiceError):
        _draft(story_case, cast.sam)


def test_a_stored_document_is_immutable_and_verified_on_download(cast, story_case, client):
    order = _draft(story_case, cast.olga)
    document = order.document
    assert len(document.sha256) == 64
    document.title = "changed"
    with pytest.raises(ImmutableDocumentError):
        document.save()
    client.force_login(cast.olga)
    url = reverse("orders:document", args=[order.pk, document.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-SHA256"] == document.sha256
    assert AuditRecord.objects.filter(action="order.document.view", actor=cast.olga).exists()
    # Someone alters the file on disk: it is not served.
    from django.core.files.storage import default_storage

    path = default_storage.path(document.file)
    with open(path, "ab") as handle:
        handle.write(b"tampered")
    assert client.get(url).status_code == 409


def test_staff_of_another_team_do_not_see_the_order(cast, story_case, client):
    order = _draft(story_case, cast.olga)
    client.force_login(cast.bob)
    assert (
        client.get(reverse("orders:document", args=[order.pk, order.document_id])).status_code
        == 404
    )
    assert client.post(reverse("orders:send", args=[order.pk])).status_code == 404


def test_the_case_page_shows_the_draft_form_with_a_preview(cast, story_case, client):
    client.force_login(cast.olga)
    url = reverse("workspace:case_detail", args=[story_case.pk])
    response = client.get(url, {"order_template": "iis_close_frozen", "of_note": "<b>x</b>"})
    html = response.content.decode()
    assert 'id="orders"' in html and 'id="order-preview-text"' in html
    assert "ИИС-2019/044718" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_drafting_through_the_view_sends_it_to_the_portal(cast, story_case, client, igor, settings):
    settings.OTKLIK_PUBLIC_URL = "http://127.0.0.1:8811/"
    client.force_login(cast.olga)
    response = client.post(
        reverse("orders:draft", args=[story_case.pk]),
        {"order_template": "iis_close_frozen", "of_note": "", "send": "1"},
    )
    assert response.status_code == 302
    order = story_case.orders.get()
    assert order.status == OrderStatus.SENT_FOR_SIGNATURE
    from otklik.notifications.models import Outbox

    sms = Outbox.objects.get(key=f"order-sent:{order.pk}:sms")
    assert f"http://127.0.0.1:8811/orders/portal/{order.pk}/" in sms.body


def test_a_client_sees_only_their_own_sent_orders(cast, story_case, igor, client):
    order = _draft(story_case, cast.olga)
    other, _iis = make_story_client(last_name="Петров", phone="+7 916 000-11-22")
    other_case = make_case(actor=cast.olga, client=other, subject="ИИС")
    other_order = services.order_draft(
        actor=cast.olga, case=other_case, template_code="iis_close_frozen", send=True
    )
    portal_login_as(client, igor[0])
    detail = reverse("orders:portal_detail", args=[order.pk])
    assert client.get(detail).status_code == 404  # a draft is not the client's business yet
    services.order_send_for_signature(actor=cast.olga, order=order)
    assert client.get(detail).status_code == 200
    assert client.get(reverse("orders:portal_detail", args=[other_order.pk])).status_code == 404
    doc_url = reverse("orders:portal_document", args=[other_order.pk, other_order.document_id])
    assert client.get(doc_url).status_code == 404
    listing = client.get(reverse("orders:portal_list")).content.decode()
    assert order.reference in listing and other_order.reference not in listing
    assert AuditRecord.objects.filter(action="order.view", client_id=igor[0].pk).exists()
