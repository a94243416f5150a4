"""Who sees which case: the permission boundaries of the desk."""

import pytest
from django.http import Http404

from otklik.cases.models import Case
from otklik.cases.selectors import QueueFilters, case_get_for_user, case_queue, cases_visible_q
from otklik.cases.services import case_transition, interaction_register
from otklik.clients.selectors import client_get_for_user
from otklik.common.errors import ServiceError
from otklik.handoffs.services import handoff_send
from tests.factories import ClientFactory, make_case


def visible(user):
    return set(Case.objects.filter(cases_visible_q(user)).values_list("pk", flat=True))


def test_operators_see_their_team_only(cast):
    a = make_case(actor=cast.alice)
    b = make_case(actor=cast.bob)
    assert visible(cast.alice) == {a.pk}
    assert visible(cast.olga) == {a.pk}
    assert visible(cast.bob) == {b.pk}
    with pytest.raises(Http404):
        case_get_for_user(user=cast.bob, case_id=a.pk)


def test_supervisor_sees_all(cast):
    a = make_case(actor=cast.alice)
    b = make_case(actor=cast.bob)
    assert visible(cast.sue) == {a.pk, b.pk}


def test_specialist_sees_only_cases_handed_to_their_department(cast):
    handed = make_case(actor=cast.alice)
    other = make_case(actor=cast.alice)
    assert visible(cast.sam) == set()
    handoff_send(actor=cast.alice, case=handed, department=cast.security, question="Звонок?")
    assert visible(cast.sam) == {handed.pk}
    assert visible(cast.tom) == set()
    with pytest.raises(Http404):
        case_get_for_user(user=cast.sam, case_id=other.pk)
    # The specialist sees the client of the handed-off case, and no other client.
    assert client_get_for_user(user=cast.sam, client_id=handed.client_id)
    with pytest.raises(Http404):
        client_get_for_user(user=cast.sam, client_id=other.client_id)


def test_specialist_cannot_change_status(cast):
    case = make_case(actor=cast.alice)
    handoff_send(actor=cast.alice, case=case, department=cast.security, question="?")
    with pytest.raises(ServiceError):
        case_transition(actor=cast.sam, case=case, to_status="in_progress")


def test_personal_manager_sees_own_clients_cases(cast):
    client = ClientFactory(personal_manager=cast.pavel)
    premium = make_case(actor=cast.alice, client=client)
    make_case(actor=cast.alice)
    assert premium.pk in visible(cast.pavel)
    assert len(visible(cast.pavel) & visible(cast.alice)) == 1


def test_inactive_user_sees_nothing(cast):
    make_case(actor=cast.alice)
    cast.alice.is_active = False
    cast.alice.save()
    assert visible(cast.alice) == set()


def test_queue_filters_and_sorts(cast):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    old = make_case(actor=cast.alice, now=now - timedelta(days=5))
    urgent = make_case(actor=cast.olga, priority=4, now=now - timedelta(hours=1), channel="chat")
    done = make_case(actor=cast.alice, now=now - timedelta(days=1))
    case_transition(actor=cast.alice, case=done, to_status="resolved")

    def ids(**kw):
        return [c.pk for c in case_queue(user=cast.alice, filters=QueueFilters(**kw), now=now)]

    assert ids() == [old.pk, urgent.pk]
    assert ids(sort="priority") == [urgent.pk, old.pk]
    assert ids(scope="mine") == [old.pk]
    assert ids(channel="chat") == [urgent.pk]
    assert ids(status="resolved") == [done.pk]
    assert ids(status="any", sort="newest") == [urgent.pk, done.pk, old.pk]
    # Default deadline is 72 h: only the five-day-old case is overdue.
    assert ids(overdue=True) == [old.pk]


def test_interaction_continues_the_case_and_reopens_it(cast):
    case = make_case(actor=cast.alice)
    case_transition(actor=cast.alice, case=case, to_status="resolved")
    interaction = interaction_register(
        actor=cast.alice,
        client=case.client,
        channel="chat",
        case=case,
        summary="Клиент вернулся в чат",
    )
    case.refresh_from_db()
    assert interaction.case == case and case.status == "in_progress"


def test_interaction_cannot_attach_to_another_clients_case(cast):
    case = make_case(actor=cast.alice)
    with pytest.raises(ServiceError) as err:
        interaction_register(actor=cast.alice, client=ClientFactory(), channel="phone", case=case)
    assert "case_id" in err.value.message_dict


def test_interaction_opens_a_new_case(cast):
    client = ClientFactory()
    interaction = interaction_register(
        actor=cast.alice, client=client, channel="phone", new_case_subject="Хочу закрыть ИИС"
    )
    assert interaction.case.client == client
    assert interaction.case.owner == cast.alice
    assert interaction.case.team == cast.team_a
