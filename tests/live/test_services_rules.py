"""live.services and live.selectors: what is stored per recipient, what is pushed to whom,
and that every read and mark touches the requesting user's own events only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from otklik.live import services
from otklik.live.models import LiveEvent
from otklik.live.selectors import live_events_after, live_last_id, live_unread_count
from otklik.live.services import event_message, live_mark_read, publish, user_group
from tests.factories import make_case

pytestmark = pytest.mark.django_db


class _Layer:
    """A channel layer that records what is sent to which group."""

    def __init__(self):
        self.sent = []

    async def group_send(self, group, message):
        self.sent.append((group, message))


@pytest.fixture
def layer(monkeypatch):
    fake = _Layer()
    monkeypatch.setattr(services, "get_channel_layer", lambda: fake)
    return fake


def test_one_event_is_stored_per_distinct_recipient(
    cast, layer, django_capture_on_commit_callbacks
):
    case = make_case(actor=cast.alice)
    publish(user_ids=[cast.olga.pk], kind="earlier", text="Раньше")  # not pushed again below
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        events = publish(
            user_ids=[cast.alice.pk, None, cast.bob.pk, cast.alice.pk, 0],
            kind="case_assigned",
            text="Вам назначено обращение",
            case=case,
            payload={"case": case.pk},
        )

    assert len(events) == 2
    stored = list(LiveEvent.objects.exclude(kind="earlier").order_by("pk"))
    assert [e.user_id for e in stored] == [cast.alice.pk, cast.bob.pk]
    for event in stored:
        assert event.kind == "case_assigned"
        assert event.case_id == case.pk
        assert event.text == "Вам назначено обращение"
        assert event.payload == {"case": case.pk}
        assert event.read_at is None
        assert before <= event.created_at <= timezone.now()

    # Each recipient's own group gets his own event, after the commit.
    assert [group for group, _ in layer.sent] == [f"user.{cast.alice.pk}", f"user.{cast.bob.pk}"]
    for (_group, message), event in zip(layer.sent, stored, strict=True):
        assert message == {"type": "live.event", "event": event_message(event)}


def test_nothing_is_pushed_before_the_commit(cast, layer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish(user_ids=[cast.alice.pk], kind="k", text="t")
    assert layer.sent == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(layer.sent) == 1


def test_without_a_channel_layer_events_are_still_stored(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "get_channel_layer", lambda: None)
    with django_capture_on_commit_callbacks(execute=True):
        publish(user_ids=[cast.alice.pk], kind="k", text="t")
    assert LiveEvent.objects.filter(user=cast.alice).count() == 1


def test_a_long_text_is_cut_to_500_characters_and_payload_defaults_empty(cast, layer):
    publish(user_ids=[cast.alice.pk], kind="k", text="я" * 600)
    event = LiveEvent.objects.get()
    assert event.text == "я" * 500
    assert event.payload == {}
    assert event.case_id is None


def test_event_message_carries_every_field(cast):
    case = make_case(actor=cast.alice)
    (event,) = publish(
        user_ids=[cast.alice.pk], kind="k", text="Текст", case=case, payload={"a": 1}
    )
    event = LiveEvent.objects.get(pk=event.pk)
    assert event_message(event) == {
        "id": event.pk,
        "kind": "k",
        "case_id": case.pk,
        "text": "Текст",
        "payload": {"a": 1},
        "created_at": event.created_at.isoformat(),
    }
    assert user_group(42) == "user.42"


def _events(user, n):
    return [publish(user_ids=[user.pk], kind="k", text=f"{i}")[0] for i in range(n)]


def test_mark_read_up_to_an_id_touches_only_own_earlier_events(cast):
    mine = _events(cast.alice, 3)
    theirs = _events(cast.bob, 1)

    assert live_mark_read(user=cast.alice, up_to=mine[1].pk) == 2
    read = {e.pk: e.read_at for e in LiveEvent.objects.all()}
    assert read[mine[0].pk] is not None and read[mine[1].pk] is not None
    assert read[mine[2].pk] is None
    assert read[theirs[0].pk] is None
    # Already read events are not counted again.
    assert live_mark_read(user=cast.alice, up_to=mine[1].pk) == 0


def test_mark_read_by_ids_never_reaches_another_users_events(cast):
    mine = _events(cast.alice, 2)
    theirs = _events(cast.bob, 1)

    assert live_mark_read(user=cast.alice, ids=[mine[1].pk, theirs[0].pk]) == 1
    assert LiveEvent.objects.get(pk=mine[0].pk).read_at is None
    assert LiveEvent.objects.get(pk=mine[1].pk).read_at is not None
    assert LiveEvent.objects.get(pk=theirs[0].pk).read_at is None
    # An empty list marks nothing (not everything).
    assert live_mark_read(user=cast.alice, ids=[]) == 0


def test_mark_read_without_bounds_marks_all_own(cast):
    _events(cast.alice, 2)
    _events(cast.bob, 1)
    assert live_mark_read(user=cast.alice) == 2
    assert live_unread_count(user=cast.alice) == 0
    assert live_unread_count(user=cast.bob) == 1


def test_events_after_an_id_are_own_oldest_first_and_bounded(cast):
    mine = _events(cast.alice, 4)
    _events(cast.bob, 2)

    got = live_events_after(user=cast.alice, after=mine[0].pk)
    assert [e.pk for e in got] == [e.pk for e in mine[1:]]
    assert [e.pk for e in live_events_after(user=cast.alice, after=0, limit=2)] == [
        mine[0].pk,
        mine[1].pk,
    ]
    # A limit below one still returns one; above the page size, the page size.
    assert len(live_events_after(user=cast.alice, after=0, limit=0)) == 1
    assert len(live_events_after(user=cast.alice, after=mine[-1].pk)) == 0


def test_events_after_returns_at_most_a_page(cast):
    now = timezone.now()
    LiveEvent.objects.bulk_create(
        [
            LiveEvent(user=cast.alice, kind="k", text="x", created_at=now - timedelta(seconds=i))
            for i in range(205)
        ]
    )
    assert len(live_events_after(user=cast.alice, after=0, limit=1000)) == 200
    assert len(live_events_after(user=cast.alice, after=0)) == 100


def test_last_id_and_unread_count_are_the_users_own(cast):
    assert live_last_id(user=cast.alice) == 0
    mine = _events(cast.alice, 2)
    theirs = _events(cast.bob, 1)
    assert live_last_id(user=cast.alice) == mine[-1].pk
    assert live_last_id(user=cast.bob) == theirs[0].pk
    assert live_unread_count(user=cast.alice) == 2
    live_mark_read(user=cast.alice, ids=[mine[0].pk])
    assert live_unread_count(user=cast.alice) == 1


def test_staff_tell_puts_it_on_screen_for_all_and_emails_those_with_an_address(cast):
    from otklik.notifications.models import Outbox

    cast.alice.email = "alice@bank.example"
    cast.alice.save(update_fields=["email"])
    services.staff_tell(
        users=[cast.alice, cast.olga],
        kind="x.told",
        text="Прочитайте",
        url="/x/1/",
        key="x-{user}-1",
    )
    events = LiveEvent.objects.filter(kind="x.told").order_by("user_id")
    assert sorted(e.user_id for e in events) == sorted([cast.alice.pk, cast.olga.pk])
    assert {(e.text, str(e.payload)) for e in events} == {("Прочитайте", "{'url': '/x/1/'}")}
    mail = Outbox.objects.get()
    assert (mail.key, mail.channel, mail.address, mail.user) == (
        f"x-{cast.alice.pk}-1",
        "email",
        "alice@bank.example",
        cast.alice,
    )
    assert (mail.subject, mail.body, mail.payload) == ("Прочитайте", "Прочитайте", {"url": "/x/1/"})
    # The same key again: no second e-mail.
    services.staff_tell(
        users=[cast.alice], kind="x.told", text="Ещё", url="/x/1/", key="x-{user}-1"
    )
    assert Outbox.objects.count() == 1
