"""Defect 8: the owner's case header follows the department's answer without a reload."""

import pytest
from django.urls import reverse

from otklik.handoffs import services
from otklik.live.models import LiveEvent

pytestmark = pytest.mark.django_db


def test_header_refetches_on_the_live_answer_and_shows_the_new_status(client, staff, case):
    alice, sam = staff.alice, staff.sam
    handoff = services.handoff_send(
        actor=alice, case=case, department=staff.security, question="Разблокировать?"
    )
    client.force_login(alice)
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    header_url = reverse("workspace:case_header", args=[case.pk])
    # The header listens to the case's live events and fetches itself again.
    assert f'hx-get="{header_url}" hx-trigger="live:case-{case.pk} from:body"' in page
    assert 'id="case-status">Ждёт подразделение<' in page

    services.handoff_take(actor=sam, handoff=handoff)
    services.handoff_answer(actor=sam, handoff=handoff, answer="Снято.")
    # The owner is told live about this case, which is what fires the re-fetch.
    assert LiveEvent.objects.filter(user=alice, case=case).exists()
    header = client.get(header_url).content.decode()
    assert 'id="case-header"' in header
    assert 'id="case-status">В работе<' in header


def test_header_of_a_case_one_cannot_see_is_404(client, staff, case):
    client.force_login(staff.bob)  # another team's operator
    assert client.get(reverse("workspace:case_header", args=[case.pk])).status_code == 404
