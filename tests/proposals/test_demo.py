"""The demo carries the five stories' proposals, scorecards and a library story, once."""

from io import StringIO

import pytest
from django.core.management import call_command

from otklik.library.models import Story, StoryStatus
from otklik.proposals.models import Proposal, ProposalStatus
from otklik.quality.models import Evaluation


@pytest.fixture(autouse=True)
def development(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_demo_has_the_stories_proposals_evaluations_and_a_story():
    call_command("load_demo", stdout=StringIO())
    counts = (Proposal.objects.count(), Evaluation.objects.count(), Story.objects.count())
    call_command("load_demo", stdout=StringIO())
    assert (Proposal.objects.count(), Evaluation.objects.count(), Story.objects.count()) == counts
    internet = Proposal.objects.get(title="Опции интернета на архивных тарифах")
    assert internet.status == ProposalStatus.MEASURED and internet.effect["weeks"]
    assert internet.merged_from.count() == 1
    assert Proposal.objects.get(title__startswith="Автообмен в момент").status == "accepted"
    assert Proposal.objects.filter(links__isnull=False).distinct().count() >= 4
    assert Evaluation.objects.filter(critical_failed=True, score=0).exists()
    story = Story.objects.get()
    assert story.status == StoryStatus.PUBLISHED and story.assignments.exists()
