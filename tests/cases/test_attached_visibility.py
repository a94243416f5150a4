"""What is attached to a case is visible exactly when the case is (issue 10, finding 4).

One client, several cases owned by different teams and handed to different departments,
one call summary on each. Every route that lists a client's or a user's contacts is asked
by every member of the cast; each must show the summaries of the cases that member can
open, and none of the others.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.accounts.services import api_token_create
from otklik.cases.models import Case, Interaction
from otklik.cases.selectors import cases_visible_q
from otklik.cases.services import case_update, interaction_register
from otklik.clients.models import Client
from otklik.clients.selectors import clients_visible_q
from otklik.handoffs.services import handoff_send
from tests.api.conftest import ApiClient
from tests.factories import ClientFactory, make_case

pytestmark = pytest.mark.django_db

CAST = ["alice", "olga", "bob", "sam", "tom", "sue", "pavel"]
ROUTES = ["client card", "api by client", "api by case", "api own"]


@pytest.fixture
def world(cast):
    """Summaries by case: team A's, team B's, one handed to treasury, one to security, one
    that moved from team A to team B after Alice's call, and a contact on no case."""
    client = ClientFactory(last_name="Общий")
    summaries: dict[int | None, str] = {}

    def call(actor, case, word):
        interaction_register(
            actor=actor, client=client, channel="phone", case=case, summary=f"итог-{word}"
        )
        summaries[case.pk] = f"итог-{word}"

    team_a = make_case(actor=cast.alice, client=client)
    call(cast.alice, team_a, "альфа")
    team_b = make_case(actor=cast.bob, client=client)
    call(cast.bob, team_b, "бета")
    treasury = make_case(actor=cast.alice, client=client)
    call(cast.olga, treasury, "казна")
    handoff_send(actor=cast.alice, case=treasury, department=cast.treasury, question="Выплата?")
    security = make_case(actor=cast.bob, client=client)
    call(cast.bob, security, "охрана")
    handoff_send(actor=cast.bob, case=security, department=cast.security, question="Проверка?")
    moved = make_case(actor=cast.alice, client=client)
    call(cast.alice, moved, "перевод")
    case_update(actor=cast.sue, case=moved, team=cast.team_b, owner=cast.bob)
    Interaction.objects.create(
        client=client,
        operator=cast.alice,
        channel="phone",
        summary="итог-безобращения",
        started_at=timezone.now(),
    )
    summaries[None] = "итог-безобращения"
    return client, summaries


def _expected(user, client, summaries, *, own: bool = False) -> set[str]:
    """The rule, stated once: the summaries of the cases the user may open, plus contacts on
    no case when the user may see the client."""
    visible_cases = set(Case.objects.filter(cases_visible_q(user)).values_list("pk", flat=True))
    sees_client = Client.objects.filter(clients_visible_q(user), pk=client.pk).exists()
    rows = Interaction.objects.filter(client=client)
    if own:
        rows = rows.filter(operator=user)
    expected = set()
    for case_id, summary in rows.values_list("case_id", "summary"):
        if (case_id is None and sees_client) or case_id in visible_cases:
            expected.add(summary)
    return expected


def _shown_in(text: str, summaries: dict) -> set[str]:
    return {s for s in summaries.values() if s in text}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("who", CAST)
def test_nobody_sees_what_is_attached_to_a_case_they_cannot_open(client, cast, world, who, route):
    person, summaries = world
    user = getattr(cast, who)
    _, raw = api_token_create(user=user, name="test")
    api = ApiClient(raw)
    sees_client = Client.objects.filter(clients_visible_q(user), pk=person.pk).exists()

    if route == "client card":
        client.force_login(user)
        response = client.get(reverse("workspace:client_card", args=[person.pk]))
        if not sees_client:
            assert response.status_code == 404
            return
        shown = _shown_in(response.content.decode(), summaries)
        expected = _expected(user, person, summaries)
    elif route == "api by client":
        response = api.get("/api/interactions", {"client_id": person.pk, "page_size": 100})
        if not sees_client:
            assert response.status_code == 404
            return
        shown = {i["summary"] for i in response.json()["items"]}
        expected = _expected(user, person, summaries)
    elif route == "api by case":
        shown, expected = set(), set()
        for case_id, summary in summaries.items():
            if case_id is None:
                continue
            response = api.get("/api/interactions", {"case_id": case_id})
            can_open = Case.objects.filter(cases_visible_q(user), pk=case_id).exists()
            assert response.status_code == (200 if can_open else 404)
            if can_open:
                expected.add(summary)
                shown |= {i["summary"] for i in response.json()["items"]}
    else:
        response = api.get("/api/interactions", {"page_size": 100})
        shown = {i["summary"] for i in response.json()["items"]}
        expected = _expected(user, person, summaries, own=True)

    assert shown == expected
    # Whoever can open a case still sees its summary (the rule does not hide too much).
    if route != "api own" and who in ("alice", "bob", "tom", "sam", "sue"):
        assert expected


def test_the_story_of_the_issue(client, cast, world):
    """Tom (treasury) opens only the treasury case; Bob gets 404 on team A's case."""
    person, summaries = world
    client.force_login(cast.tom)
    html = client.get(reverse("workspace:client_card", args=[person.pk])).content.decode()
    assert _shown_in(html, summaries) == {"итог-казна", "итог-безобращения"}
    team_a_case = next(pk for pk, s in summaries.items() if s == "итог-альфа")
    client.force_login(cast.bob)
    assert client.get(reverse("workspace:case_detail", args=[team_a_case])).status_code == 404
    html = client.get(reverse("workspace:client_card", args=[person.pk])).content.decode()
    assert "итог-альфа" not in html and "итог-бета" in html and "итог-перевод" in html


def test_live_channel_names_only_a_case_the_viewer_may_open(cast):
    """Tom may know the client is on a call right now, not which of team B's cases it is."""
    from otklik.handoffs.selectors import client_reachability

    person = ClientFactory()
    handed = make_case(actor=cast.alice, client=person)
    handoff_send(actor=cast.alice, case=handed, department=cast.treasury, question="Выплата?")
    other = make_case(actor=cast.bob, client=person)
    interaction_register(actor=cast.bob, client=person, channel="phone", case=other)
    # The call is "now" while Bob has its case open (presence; see tests/presence).
    from otklik.presence.services import presence_leave, presence_touch

    presence_touch(scope=f"case:{other.pk}", tab="call", user=cast.bob)

    for_tom = client_reachability(client=person, user=cast.tom)
    for_bob = client_reachability(client=person, user=cast.bob)
    presence_leave(scope=f"case:{other.pk}", tab="call", user_id=cast.bob.pk)
    assert for_tom.live is not None and for_tom.live_label
    assert for_tom.live_case_reference == ""
    assert for_bob.live_case_reference == other.reference
