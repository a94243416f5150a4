"""Quality pages: the mentor's form, the operator's acknowledgement, who may open what."""

import pytest
from django.urls import reverse

from otklik.audit.models import AuditRecord
from otklik.quality.models import Evaluation, EvaluationStatus

pytestmark = pytest.mark.django_db


def test_a_mentor_scores_a_chat_and_the_operator_acknowledges(client, cast, card, chat):
    client.force_login(cast.olga)
    form = client.get(
        reverse("quality:evaluate"), {"kind": "chat", "target": chat.pk}
    ).content.decode()
    assert "Меня зовут Алиса" in form and "badge-danger" in form
    data = {"kind": "chat", "target": chat.pk, "scorecard": card.pk, "comment": "Молодец"}
    for criterion in card.criteria.all():
        data[f"c{criterion.pk}"] = "failed" if criterion.critical else "met"
    response = client.post(reverse("quality:evaluate"), data)
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302 and evaluation.score == 0
    assert AuditRecord.objects.filter(actor=cast.olga, via="quality").exists()
    client.force_login(cast.alice)
    assert "quality-pending" in client.get(reverse("quality:home")).content.decode()
    client.post(reverse("quality:acknowledge", args=[evaluation.pk]))
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.ACKNOWLEDGED


def test_an_incomplete_form_is_refused_with_a_message(client, cast, card, chat):
    client.force_login(cast.olga)
    response = client.post(
        reverse("quality:evaluate"), {"kind": "chat", "target": chat.pk, "scorecard": card.pk}
    )
    assert response.status_code == 422 and not Evaluation.objects.exists()


def test_operators_cannot_evaluate_and_outsiders_cannot_open(client, cast, card, chat):
    client.force_login(cast.alice)
    assert client.get(reverse("quality:evaluate")).status_code == 403
    assert client.get(reverse("quality:calibration")).status_code == 403
    client.force_login(cast.sue)
    data = {"kind": "chat", "target": chat.pk, "scorecard": card.pk}
    data.update({f"c{c.pk}": "met" for c in card.criteria.all()})
    client.post(reverse("quality:evaluate"), data)
    evaluation = Evaluation.objects.get()
    client.force_login(cast.bob)
    assert client.get(reverse("quality:evaluation", args=[evaluation.pk])).status_code == 404
    assert client.post(reverse("quality:resolve", args=[evaluation.pk])).status_code == 403
    html = client.get(reverse("quality:figures")).content.decode()
    assert 'data-operator="alice"' not in html and 'data-operator="bob"' in html


def test_scorecards_are_edited_in_the_admin(client, card):
    from tests.factories import UserFactory

    admin_user = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    page = client.get(reverse("admin:quality_scorecard_change", args=[card.pk])).content.decode()
    assert "Не раскрыл данные без проверки личности" in page
    assert client.get(reverse("admin:library_story_changelist")).status_code == 200
    assert client.get(reverse("admin:proposals_proposal_changelist")).status_code == 200
