"""Proposal pages: the form from a case, suggestions, the workflow buttons and who gets them."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.proposals.models import Proposal, ProposalStatus
from otklik.proposals.services import proposal_create
from tests.factories import TopicFactory, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(db):
    return TopicFactory(name="Автообмен")


@pytest.fixture
def existing(cast, topic):
    return proposal_create(
        actor=cast.olga,
        title="Автообмен в момент зачисления зарплаты",
        problem="Зарплата пришла, автообмен сработал только ночью по другому курсу",
        proposal="Запускать автообмен сразу при зачислении",
        topic=topic,
    )


def test_new_from_a_case_is_prefilled(client, cast, topic):
    case = make_case(actor=cast.alice, topic=topic, subject="Автообмен по невыгодному курсу")
    client.force_login(cast.alice)
    page = client.get(reverse("proposals:new"), {"case": case.pk}).content.decode()
    assert f'<option value="{topic.pk}" selected>' in page
    assert "Автообмен по невыгодному курсу" in page
    response = client.post(
        reverse("proposals:new"),
        {"case": case.pk, "title": "Курс", "problem": "п", "proposal": "п", "topic": topic.pk},
    )
    proposal = Proposal.objects.get(title="Курс")
    assert response.status_code == 302 and proposal.links.get().case == case


def test_a_case_of_another_team_cannot_be_used(client, cast):
    case = make_case(actor=cast.bob)
    client.force_login(cast.alice)
    assert client.get(reverse("proposals:new"), {"case": case.pk}).status_code == 404


def test_bad_input_is_shown_next_to_the_field(client, cast):
    client.force_login(cast.alice)
    response = client.post(reverse("proposals:new"), {"title": "", "problem": "", "proposal": ""})
    assert response.status_code == 422
    assert 'class="error"' in response.content.decode()


def test_suggestions_offer_plus_one_with_my_case(client, cast, existing):
    case = make_case(actor=cast.bob)
    client.force_login(cast.bob)
    html = client.get(
        reverse("proposals:similar"), {"title": "автообмен зарплата", "case": case.pk}
    ).content.decode()
    assert f'data-proposal="{existing.pk}"' in html
    assert f'name="case" value="{case.pk}"' in html
    client.post(reverse("proposals:support", args=[existing.pk]), {"case": case.pk})
    assert existing.links.filter(case=case).exists()


def test_workflow_buttons_only_for_reviewers(client, cast, existing):
    url = reverse("proposals:detail", args=[existing.pk])
    client.force_login(cast.alice)
    assert "proposal-workflow" not in client.get(url).content.decode()
    response = client.post(
        reverse("proposals:transition", args=[existing.pk]), {"to": "under_review"}
    )
    assert response.status_code == 403
    assert (
        client.post(reverse("proposals:merge", args=[existing.pk]), {"target": 1}).status_code
        == 403
    )
    client.force_login(cast.sue)
    assert "proposal-workflow" in client.get(url).content.decode()
    client.post(reverse("proposals:transition", args=[existing.pk]), {"to": "under_review"})
    existing.refresh_from_db()
    assert existing.status == ProposalStatus.UNDER_REVIEW


def test_the_chart_shows_both_periods_once_implemented(client, cast, existing, topic):
    make_case(actor=cast.alice, topic=topic, now=timezone.now() - timezone.timedelta(days=30))
    existing.status = ProposalStatus.IN_PROGRESS
    existing.save()
    client.force_login(cast.sue)
    client.post(
        reverse("proposals:transition", args=[existing.pk]),
        {
            "to": "implemented",
            "implemented_on": (timezone.localdate() - timezone.timedelta(days=14)).isoformat(),
        },
    )
    html = client.get(reverse("proposals:detail", args=[existing.pk])).content.decode()
    assert "<svg" in html and 'data-period="before"' in html and 'data-period="after"' in html
    assert len(re.findall(r'class="bar bar-', html)) >= 8
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_list_and_top_of_month(client, cast, existing):
    client.force_login(cast.bob)
    html = client.get(
        reverse("proposals:list"), {"sort": "links", "status": "new"}
    ).content.decode()
    assert existing.title in html and "top-of-month" in html


def test_showing_linked_case_subjects_is_audited_only_for_readers_who_see_them(client, cast):
    from otklik.audit.models import AuditRecord

    case = make_case(actor=cast.alice, subject="Карта не доставлена")
    proposal = proposal_create(actor=cast.alice, title="т", problem="п", proposal="п", case=case)
    url = reverse("proposals:detail", args=[proposal.pk])
    client.force_login(cast.bob)  # another team: sees the reference, not the subject
    assert "Карта не доставлена" not in client.get(url).content.decode()
    assert not AuditRecord.objects.filter(via="proposals").exists()
    client.force_login(cast.alice)
    assert "Карта не доставлена" in client.get(url).content.decode()
    assert AuditRecord.objects.filter(
        via="proposals", actor=cast.alice, client_id=case.client_id
    ).exists()
