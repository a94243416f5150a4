"""Proposals: created from cases, supported with cases, reviewed, merged, measured."""

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from otklik.common.errors import NotAllowed, ServiceError
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox
from otklik.proposals.models import ProposalLink, ProposalStatus, ProposalVote
from otklik.proposals.selectors import (
    ProposalFilters,
    can_review,
    proposal_list,
    similar_proposals,
    top_of_month,
    topic_volume,
)
from otklik.proposals.services import (
    proposal_create,
    proposal_merge,
    proposal_support,
    proposal_transition,
)
from tests.factories import ClientFactory, TopicFactory, UserFactory, make_case, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery_topic(db):
    return TopicFactory(name="Доставка карты")


@pytest.fixture
def analyst(cast):
    user = UserFactory(username="anna", role="operator")
    user.user_permissions.add(Permission.objects.get(codename="review_proposal"))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


def _propose(actor, case=None, **kw):
    values = {
        "title": "Окно в два часа для исправления адреса доставки",
        "problem": "Клиент ошибся в адресе доставки карты, курьер уже выехал",
        "proposal": "Дать два часа на исправление адреса доставки после заказа",
    }
    values.update(kw)
    return proposal_create(actor=actor, case=case, **values)


def test_from_a_case_the_topic_is_prefilled_and_the_case_linked(cast, delivery_topic):
    case = make_case(actor=cast.alice, topic=delivery_topic, subject="Неверный адрес")
    proposal = _propose(cast.alice, case=case)
    assert proposal.topic == delivery_topic
    assert proposal.status == ProposalStatus.NEW
    assert list(proposal.links.values_list("case_id", flat=True)) == [case.pk]
    assert proposal.votes.filter(user=cast.alice).exists()


def test_a_case_the_author_cannot_see_is_refused(cast):
    bobs_case = make_case(actor=cast.bob)
    with pytest.raises(NotAllowed):
        _propose(cast.alice, case=bobs_case)


def test_card_numbers_typed_into_a_proposal_are_redacted(cast):
    proposal = _propose(cast.alice, problem="Клиент продиктовал карту 4111 1111 1111 1111")
    assert "4111 1111 1111 1111" not in proposal.problem


def test_required_fields_are_checked(cast):
    with pytest.raises(ServiceError) as err:
        _propose(cast.alice, title="  ")
    assert "title" in err.value.message_dict


def test_similar_proposals_are_found_by_meaning_of_words(cast):
    first = _propose(cast.alice)
    _propose(
        cast.bob,
        title="Автообмен зарплаты в валюту",
        problem="Курс меняется",
        proposal="Менять в момент зачисления",
    )
    found = similar_proposals(user=cast.bob, text="Исправить адрес доставки, курьер выехал")
    assert [s.proposal.pk for s in found][:1] == [first.pk]
    assert similar_proposals(user=cast.bob, text="тариф интернет роуминг") == []


def test_plus_one_with_my_case_links_the_case_and_tells_the_author(cast, delivery_topic):
    proposal = _propose(cast.alice, case=make_case(actor=cast.alice, topic=delivery_topic))
    bobs_case = make_case(actor=cast.bob, topic=delivery_topic)
    proposal_support(actor=cast.bob, proposal=proposal, case=bobs_case, comment="тоже")
    assert ProposalLink.objects.filter(proposal=proposal, case=bobs_case, user=cast.bob).exists()
    assert ProposalVote.objects.filter(proposal=proposal).count() == 2
    assert LiveEvent.objects.filter(user=cast.alice, kind="proposal.linked").exists()
    with pytest.raises(ServiceError):
        proposal_support(actor=cast.bob, proposal=proposal, case=bobs_case)


def test_only_analysts_and_the_owner_department_review(cast, analyst):
    proposal = _propose(cast.alice, department=cast.security)
    assert not can_review(user=cast.alice, proposal=proposal)
    assert not can_review(user=cast.tom, proposal=proposal)  # treasury
    assert can_review(user=cast.sam, proposal=proposal)  # security owns it
    assert can_review(user=analyst, proposal=proposal)
    assert can_review(user=cast.sue, proposal=proposal)
    with pytest.raises(NotAllowed):
        proposal_transition(actor=cast.alice, proposal=proposal, to=ProposalStatus.UNDER_REVIEW)
    with pytest.raises(NotAllowed):
        proposal_transition(actor=cast.tom, proposal=proposal, to=ProposalStatus.UNDER_REVIEW)
    proposal_transition(actor=cast.sam, proposal=proposal, to=ProposalStatus.UNDER_REVIEW)


def test_the_workflow_in_order_and_everyone_is_told(cast, analyst, delivery_topic):
    cast.alice.email = "alice@otklik.test"
    cast.alice.save()
    proposal = _propose(cast.alice, case=make_case(actor=cast.alice, topic=delivery_topic))
    proposal_support(
        actor=cast.bob, proposal=proposal, case=make_case(actor=cast.bob, topic=delivery_topic)
    )
    with pytest.raises(ServiceError):  # cannot jump to implemented
        proposal_transition(actor=analyst, proposal=proposal, to=ProposalStatus.IMPLEMENTED)
    for step in (ProposalStatus.UNDER_REVIEW, ProposalStatus.ACCEPTED, ProposalStatus.IN_PROGRESS):
        proposal = proposal_transition(actor=analyst, proposal=proposal, to=step)
    with pytest.raises(ServiceError):  # implemented needs a date
        proposal_transition(actor=analyst, proposal=proposal, to=ProposalStatus.IMPLEMENTED)
    with pytest.raises(ServiceError):  # not in the future
        proposal_transition(
            actor=analyst,
            proposal=proposal,
            to=ProposalStatus.IMPLEMENTED,
            implemented_on=timezone.localdate() + timedelta(days=1),
        )
    proposal = proposal_transition(
        actor=analyst,
        proposal=proposal,
        to=ProposalStatus.IMPLEMENTED,
        implemented_on=timezone.localdate(),
    )
    proposal = proposal_transition(actor=analyst, proposal=proposal, to=ProposalStatus.MEASURED)
    assert proposal.effect["before_avg"] is not None
    for user in (cast.alice, cast.bob):
        kinds = list(
            LiveEvent.objects.filter(user=user, kind="proposal.status").values_list(
                "text", flat=True
            )
        )
        assert len(kinds) == 5, kinds
    assert Outbox.objects.filter(address="alice@otklik.test", channel="email").count() >= 6


def test_declining_needs_a_reason(cast, analyst):
    proposal = _propose(cast.alice)
    with pytest.raises(ServiceError) as err:
        proposal_transition(actor=analyst, proposal=proposal, to=ProposalStatus.DECLINED)
    assert "reason" in err.value.message_dict
    proposal = proposal_transition(
        actor=analyst, proposal=proposal, to=ProposalStatus.DECLINED, reason="Нет ресурса"
    )
    assert proposal.decline_reason == "Нет ресурса"


def test_merging_moves_links_and_votes_once(cast, analyst, delivery_topic):
    shared = make_case(actor=cast.alice, topic=delivery_topic)
    target = _propose(cast.alice, case=shared)
    source = _propose(
        cast.bob, case=make_case(actor=cast.bob, topic=delivery_topic), title="Исправление адреса"
    )
    proposal_support(
        actor=cast.alice, proposal=source, case=shared
    )  # alice also +1'd the duplicate
    with pytest.raises(NotAllowed):
        proposal_merge(actor=cast.alice, source=source, target=target)
    proposal_merge(actor=analyst, source=source, target=target)
    source.refresh_from_db()
    assert source.status == ProposalStatus.MERGED and source.merged_into == target
    assert target.links.count() == 2  # the shared case once, bob's case moved
    assert set(target.votes.values_list("user__username", flat=True)) == {"alice", "bob"}
    assert not source.links.exists() and not source.votes.exists()
    with pytest.raises(ServiceError):
        proposal_support(actor=cast.olga, proposal=source)
    assert source not in proposal_list(user=cast.alice, filters=ProposalFilters())


def test_lists_filter_and_sort_by_linked_cases(cast, delivery_topic):
    few = _propose(cast.alice, department=cast.security)
    many = _propose(cast.alice, case=make_case(actor=cast.alice), topic=delivery_topic)
    proposal_support(actor=cast.olga, proposal=many, case=make_case(actor=cast.olga))
    by_links = list(proposal_list(user=cast.bob, filters=ProposalFilters(sort="links")))
    assert by_links[0] == many and by_links[0].link_count == 2
    assert list(
        proposal_list(user=cast.bob, filters=ProposalFilters(department_id=cast.security.pk))
    ) == [few]
    assert list(
        proposal_list(user=cast.bob, filters=ProposalFilters(topic_id=delivery_topic.pk))
    ) == [many]
    assert list(proposal_list(user=cast.bob, filters=ProposalFilters(min_links=2))) == [many]
    assert top_of_month(user=cast.bob)[0] == many


def test_volume_before_and_after_the_implementation_date(cast, delivery_topic):
    today = date(2026, 11, 30)  # a Monday
    split = today - timedelta(weeks=3)
    client = ClientFactory()
    tz = timezone.get_current_timezone()
    # Four cases a week before, one a week after.
    for week in range(1, 6):
        for i in range(4):
            make_case(
                actor=cast.alice,
                client=client,
                topic=delivery_topic,
                now=datetime.combine(
                    split - timedelta(weeks=week, days=-1), datetime.min.time(), tzinfo=tz
                )
                + timedelta(hours=10 + i),
            )
    for week in range(3):
        make_case(
            actor=cast.alice,
            client=client,
            topic=delivery_topic,
            now=datetime.combine(
                split + timedelta(weeks=week, days=1), datetime.min.time(), tzinfo=tz
            )
            + timedelta(hours=10),
        )
    make_case(
        actor=cast.alice,
        client=client,
        topic=TopicFactory(name="Другое"),
        now=datetime.combine(split + timedelta(days=1), datetime.min.time(), tzinfo=tz),
    )
    proposal = _propose(cast.alice, topic=delivery_topic)
    proposal.implemented_on = split
    volume = topic_volume(proposal=proposal, today=today)
    before = [w.count for w in volume.weeks if not w.after]
    after = [w.count for w in volume.weeks if w.after]
    assert before[-5:] == [4, 4, 4, 4, 4]
    assert after == [1, 1, 1, 0]  # the current week has nothing yet
    assert volume.after_avg < volume.before_avg
    assert volume.change_pct is not None and volume.change_pct < -50


def test_product_from_the_client_must_be_known(cast):
    client = ClientFactory()
    make_product(client, kind="card")
    with pytest.raises(ServiceError):
        _propose(cast.alice, product_kind="spaceship")


def test_the_case_clients_name_and_phone_do_not_reach_a_proposal(cast):
    client = ClientFactory(last_name="Орлова", first_name="Марина")
    case = make_case(actor=cast.alice, client=client, subject="Орлова: адрес доставки")
    proposal = _propose(
        cast.alice, case=case, problem="Как у Марины Орловой, тел. +7 916 555-12-34: адрес"
    )
    assert "Орлов" not in proposal.problem and "Марин" not in proposal.problem
    assert "555-12-34" not in proposal.problem and "[имя]" in proposal.problem


def test_a_new_or_merged_proposal_changes_the_suggestions_at_once(cast, analyst):
    first = _propose(cast.alice)
    assert [s.proposal for s in similar_proposals(user=cast.bob, text="адрес доставки")] == [first]
    second = _propose(cast.bob, title="Адрес доставки: исправление после заказа")
    found = {s.proposal for s in similar_proposals(user=cast.bob, text="адрес доставки")}
    assert found == {first, second}
    proposal_merge(actor=analyst, source=second, target=first)
    assert [s.proposal for s in similar_proposals(user=cast.bob, text="адрес доставки")] == [first]
