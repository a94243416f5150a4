"""telephony.selectors: a call is its operator's own (supervisors see all), callbacks are for
those who may call back, and the call figures count each call where it belongs."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.cases.models import Interaction
from otklik.telephony.models import Call, Callback, CallbackStatus, CallDirection, CallStatus
from otklik.telephony.selectors import (
    call_figures,
    call_get_for_user,
    callback_get_for_user,
    callbacks_open,
    calls_to_wrap_up,
    can_call_back,
)
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

_n = iter(range(10_000))


def _call(operator=None, *, status=CallStatus.ENDED, at=None, **kwargs):
    return Call.objects.create(
        call_id=f"c-{next(_n)}",
        direction=kwargs.pop("direction", CallDirection.INBOUND),
        status=status,
        number="+79165551234",
        operator=operator,
        started_at=at or timezone.now(),
        **kwargs,
    )


def test_a_call_is_its_operators_own_and_any_for_supervisors(cast):
    mine = _call(cast.alice)
    theirs = _call(cast.bob)
    admin = UserFactory(username="adm", role=Role.ADMIN)
    assert call_get_for_user(user=cast.alice, call_id=mine.pk) == mine
    assert call_get_for_user(user=cast.sue, call_id=theirs.pk) == theirs
    assert call_get_for_user(user=admin, call_id=mine.pk) == mine
    for user, call in ((cast.alice, theirs), (cast.olga, mine), (cast.bob, mine)):
        with pytest.raises(Http404):
            call_get_for_user(user=user, call_id=call.pk)
    with pytest.raises(Http404):
        call_get_for_user(user=cast.sue, call_id=theirs.pk + 1000)


def test_who_may_call_back(cast):
    assert can_call_back(user=cast.alice) is True
    assert can_call_back(user=cast.sue) is True
    assert can_call_back(user=cast.sam) is False
    sam_admin = UserFactory(username="root", role=Role.SPECIALIST, is_superuser=True)
    assert can_call_back(user=sam_admin) is True
    cast.alice.is_active = False
    assert can_call_back(user=cast.alice) is False


def _callback(call, due, status=CallbackStatus.OPEN):
    return Callback.objects.create(
        call=call, number=call.number, status=status, due_at=due, created_at=timezone.now()
    )


def test_open_callbacks_most_urgent_first_done_ones_left_out(cast):
    now = timezone.now()
    late = _callback(_call(status=CallStatus.MISSED), now + timedelta(hours=2))
    soon = _callback(_call(status=CallStatus.MISSED), now + timedelta(minutes=5))
    calling = _callback(
        _call(status=CallStatus.MISSED), now + timedelta(hours=2), CallbackStatus.CALLING
    )
    _callback(_call(status=CallStatus.MISSED), now, CallbackStatus.DONE)
    assert list(callbacks_open()) == [soon, late, calling]


def test_a_callback_is_opened_only_by_who_may_call_back(cast):
    callback = _callback(_call(status=CallStatus.MISSED), timezone.now())
    assert callback_get_for_user(user=cast.bob, callback_id=callback.pk) == callback
    with pytest.raises(Http404):
        callback_get_for_user(user=cast.sam, callback_id=callback.pk)
    with pytest.raises(Http404):
        callback_get_for_user(user=cast.bob, callback_id=callback.pk + 1000)


def test_calls_to_wrap_up_are_the_operators_ended_unattached_ones(cast):
    client = ClientFactory()
    ended = _call(cast.alice, client=client)
    _call(cast.alice, status=CallStatus.ANSWERED)
    _call(cast.bob)
    attached = _call(cast.alice)
    interaction = Interaction.objects.create(
        client=client, channel="phone", operator=cast.alice, started_at=timezone.now()
    )
    attached.interaction = interaction
    attached.save(update_fields=["interaction"])
    assert list(calls_to_wrap_up(user=cast.alice)) == [ended]
    assert list(calls_to_wrap_up(user=cast.olga)) == []


def test_call_figures_count_inbound_finished_calls_in_the_period(cast):
    start = timezone.now() - timedelta(hours=1)
    end = start + timedelta(minutes=30)
    answered = dict(answered_at=start, talk_seconds=100, hold_seconds=20)
    _call(cast.alice, at=start, answered_in_target=True, **answered)
    _call(cast.alice, at=end - timedelta(seconds=1), **answered)
    _call(status=CallStatus.MISSED, at=start + timedelta(minutes=1), abandoned=True)
    # Not counted: outbound, still talking, before the start, at the end.
    _call(cast.alice, at=start, direction=CallDirection.OUTBOUND, **answered)
    _call(cast.alice, at=start, status=CallStatus.ANSWERED, answered_at=start)
    _call(cast.alice, at=start - timedelta(seconds=1), **answered)
    _call(cast.alice, at=end, **answered)

    figures = call_figures(start=start, end=end)
    assert (figures.offered, figures.answered, figures.answered_in_target) == (3, 2, 1)
    assert figures.abandoned == 1
    assert (figures.talk_seconds, figures.hold_seconds) == (200, 40)
    assert figures.service_level == pytest.approx(1 / 3)
    assert figures.average_handle_seconds == 120.0


def test_figures_of_an_empty_period(db):
    now = timezone.now()
    figures = call_figures(start=now, end=now + timedelta(hours=1))
    assert (figures.offered, figures.talk_seconds, figures.hold_seconds) == (0, 0, 0)
    assert figures.service_level is None
    assert figures.average_handle_seconds is None
