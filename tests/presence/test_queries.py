"""Presence costs no query per page view beyond a constant: the people present and their
drafts never reach the database when a page is rendered (bench/presence/run.py measures
the same on a bigger scale, docs/benchmarks.md)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from otklik.presence.services import draft_save, presence_touch
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_people_present_and_their_drafts_add_no_queries(cast, client):
    case = make_case(actor=cast.alice)
    client.force_login(cast.alice)
    case_url = reverse("workspace:case_detail", args=[case.pk])
    card_url = reverse("workspace:client_card", args=[case.client_id])
    alone = (_queries(client, case_url), _queries(client, card_url))
    for i in range(10):
        colleague = UserFactory(role=cast.olga.role, team=cast.team_a)
        presence_touch(scope=f"case:{case.pk}", tab=str(i), user=colleague, typing="reply")
        presence_touch(scope=f"client:{case.client_id}", tab=str(i), user=colleague)
        draft_save(user=colleague, case=case, kind="message", body="черновик")
    assert (_queries(client, case_url), _queries(client, card_url)) == alone
    page = client.get(case_url).content.decode()
    assert 'id="presence"' in page and "черновик" not in page  # others' drafts stay theirs
