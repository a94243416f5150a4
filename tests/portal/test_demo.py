"""The portal demo scene: story 001's borrower finds an answer waiting in the cabinet."""

import pytest

from otklik.clients.services import client_create
from otklik.portal import selectors
from otklik.portal.demo import load_demo_portal
from otklik.portal.models import PortalAnswer
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def test_nothing_without_the_borrower(db):
    assert load_demo_portal().created is False


def test_answered_case_once(cast):
    borrower = client_create(
        last_name="Соколов",
        first_name="Дмитрий",
        phones=["+7 912 574-03-61"],
        emails=["d.sokolov88@example.com"],
    )
    make_case(actor=cast.alice, client=borrower, subject="Судебное взыскание")
    first = load_demo_portal()
    second = load_demo_portal()
    assert first.created and not second.created and first.case_id == second.case_id
    answer = PortalAnswer.objects.get()
    assert answer.on_time and answer.case_id == first.case_id
    unread = {c.pk: c.unread for c in selectors.portal_cases(client=borrower)}
    assert unread[first.case_id] == 1
