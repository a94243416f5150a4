"""The onboarding checklist is data an administrator edits: steps are added, reordered,
re-timed and retired; a new client gets the checklist as it is on the day he is assigned,
and a checklist already under way keeps the steps it was given."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps

from otklik.accounts.models import Role
from otklik.clients.models import Segment
from otklik.relationship.catalogue import onboarding_template_ensure
from otklik.relationship.models import OnboardingStep, OnboardingTemplateStep
from otklik.relationship.services import clients_assign
from tests.factories import ClientFactory, UserFactory
from tests.relationship.conftest import TODAY

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/relationship/onboardingtemplatestep/"


def checklist(client) -> list[tuple[str, int]]:
    """(code, days after TODAY) of the client's steps, in the order the desk shows them."""
    return [
        (s.code, (s.due_on - TODAY).days)
        for s in OnboardingStep.objects.filter(client=client).order_by("due_on", "id")
    ]


def newcomer():
    return ClientFactory(segment=Segment.PREMIUM, personal_manager=None)


def assign(desk, cast, client) -> None:
    clients_assign(actor=cast.sue, clients=[client], to_manager=desk.pavel, now=_at(TODAY))


def _at(day):
    from datetime import datetime, time

    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time(10)))


@pytest.fixture
def admin_client(client):
    admin = UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_migration_0003_gives_an_installation_the_four_default_steps_once():
    # Run here (a transactional test earlier in the session may have flushed its rows).
    seed = importlib.import_module(
        "otklik.relationship.migrations.0003_onboarding_template"
    ).seed_checklist
    OnboardingTemplateStep.objects.all().delete()
    seed(django_apps, None)
    seed(django_apps, None)
    assert list(OnboardingTemplateStep.objects.values_list("code", "due_days", "active")) == [
        ("intro_call", 2, True),
        ("channels", 3, True),
        ("app", 7, True),
        ("preferences", 7, True),
    ]


def test_a_new_client_gets_the_active_steps_in_order_with_their_offsets(desk, cast):
    assign(desk, cast, first := newcomer())
    assert checklist(first) == [("intro_call", 2), ("channels", 3), ("app", 7), ("preferences", 7)]

    # The administrator retires «app», adds a welcome pack after the call and moves the
    # preferences before the channels with a shorter offset.
    OnboardingTemplateStep.objects.filter(code="app").update(active=False)
    OnboardingTemplateStep.objects.create(
        code="welcome_pack", title="Отправлен приветственный набор", due_days=5, position=15
    )
    OnboardingTemplateStep.objects.filter(code="preferences").update(position=12, due_days=3)

    assign(desk, cast, second := newcomer())
    steps = list(OnboardingStep.objects.filter(client=second).order_by("id"))
    assert [s.code for s in steps] == ["intro_call", "preferences", "welcome_pack", "channels"]
    assert [(s.due_on - TODAY).days for s in steps] == [2, 3, 5, 3]
    assert steps[2].title == "Отправлен приветственный набор"

    # The first client's checklist is as it was given: «app» stays, nothing is added or moved.
    assert checklist(first) == [("intro_call", 2), ("channels", 3), ("app", 7), ("preferences", 7)]


def test_a_started_checklist_keeps_a_ticked_step_and_its_title_after_a_rename(desk, cast):
    assign(desk, cast, client := newcomer())
    call = OnboardingStep.objects.get(client=client, code="intro_call")
    call.done_at = _at(TODAY + timedelta(days=1))
    call.save(update_fields=["done_at"])

    OnboardingTemplateStep.objects.filter(code="intro_call").update(title="Видеозвонок")
    OnboardingTemplateStep.objects.filter(code="intro_call").delete()

    call.refresh_from_db()
    assert call.title == "Знакомственный звонок" and call.done_at is not None


def test_with_every_step_retired_a_new_client_gets_no_checklist(desk, cast):
    OnboardingTemplateStep.objects.update(active=False)
    assign(desk, cast, client := newcomer())
    assert checklist(client) == []


def test_the_admin_adds_and_reorders_steps_and_refuses_a_bad_offset(admin_client):
    onboarding_template_ensure()
    page = admin_client.get(CHANGELIST)
    assert page.status_code == 200 and "Знакомственный звонок" in page.content.decode()

    refused = admin_client.post(
        CHANGELIST + "add/",
        {"code": "too_late", "title": "Через год с лишним", "due_days": "400", "position": "5"},
    )
    assert refused.status_code == 200  # the form again, with the error
    assert "365" in refused.content.decode()
    assert not OnboardingTemplateStep.objects.filter(code="too_late").exists()

    added = admin_client.post(
        CHANGELIST + "add/",
        {
            "code": "welcome_pack",
            "title": "Отправлен приветственный набор",
            "due_days": "5",
            "position": "1",
            "active": "on",
        },
    )
    assert added.status_code == 302
    step = OnboardingTemplateStep.objects.get(code="welcome_pack")
    assert (step.due_days, step.position, step.active) == (5, 1, True)
    assert OnboardingTemplateStep.objects.first() == step  # first in the checklist now
