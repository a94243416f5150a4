"""No blind replies: the rule (cases/freshness.py) and the three forms that answer a client."""

import pytest
from django.urls import reverse

from otklik.cases.freshness import (
    StaleReply,
    case_changes_since,
    case_seen_marker,
    parse_seen,
    reply_guard,
)
from otklik.cases.models import CaseStatus, Message, MessageVisibility
from otklik.cases.services import case_transition, case_update, message_add
from otklik.handoffs.services import handoff_send, handoff_take
from otklik.portal.models import PortalAnswer
from otklik.presence.models import Draft, DraftKind
from otklik.presence.services import draft_save
from tests.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(cast):
    case = make_case(actor=cast.alice, subject="Закрыть ИИС")
    message_add(actor=cast.alice, case=case, body="Здравствуйте!", visibility="public")
    return case


def test_a_colleagues_reply_after_opening_holds_the_reply(cast, case):
    seen = case_seen_marker(case=case)
    message_add(actor=cast.olga, case=case, body="Счёт закроем завтра", visibility="public")
    with pytest.raises(StaleReply) as caught:
        reply_guard(case=case, seen=seen, sender=cast.alice)
    changes = caught.value.changes
    assert [m.body for m in changes.messages] == ["Счёт закроем завтра"]
    assert changes.marker == case_seen_marker(case=case) > seen
    # With the marker of the page that showed the change, it goes through.
    reply_guard(case=case, seen=changes.marker, sender=cast.alice)


def test_own_changes_internal_notes_and_field_edits_do_not_hold(cast, case):
    seen = case_seen_marker(case=case)
    message_add(actor=cast.alice, case=case, body="Мой ответ", visibility="public")
    message_add(actor=cast.olga, case=case, body="заметка", visibility="internal")
    case_update(actor=cast.olga, case=case, subject="Закрыть ИИС и счёт")
    reply_guard(case=case, seen=seen, sender=cast.alice)


def test_a_status_change_or_the_clients_message_holds(cast, case):
    seen = case_seen_marker(case=case)
    case_transition(actor=cast.olga, case=case, to_status=CaseStatus.WAITING_CLIENT)
    changes = case_changes_since(case=case, seen=seen, sender=cast.alice)
    assert [(e.old_value, e.new_value) for e in changes.events] == [
        ("in_progress", "waiting_client")
    ]
    seen = changes.marker
    message_add(actor=None, case=case, body="Я на связи", visibility="public", author_kind="client")
    changes = case_changes_since(case=case, seen=seen, sender=cast.alice)
    assert [m.body for m in changes.messages] == ["Я на связи"]
    assert [e.new_value for e in changes.events] == ["in_progress"]  # reopened by the client


def test_no_marker_skips_the_check_and_garbage_counts_as_nothing_seen(cast, case):
    assert parse_seen(None) is None and parse_seen("") is None
    assert parse_seen("abc") == 0 and parse_seen("-5") == 0 and parse_seen("12") == 12
    reply_guard(case=case, seen=None, sender=cast.alice)
    with pytest.raises(StaleReply):  # the case's own first reply is "news" to a blank page
        reply_guard(case=case, seen=parse_seen("abc"), sender=cast.bob)


def test_the_case_page_holds_a_reply_then_sends_it_when_confirmed(cast, case, client):
    client.force_login(cast.alice)
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    seen = case_seen_marker(case=case)
    assert f'name="seen" value="{seen}"' in page
    draft_save(user=cast.alice, case=case, kind=DraftKind.MESSAGE, body="Закроем сегодня")
    message_add(actor=cast.olga, case=case, body="Закроем завтра", visibility="public")

    url = reverse("workspace:message_create", args=[case.pk])
    post = {"body": "Закроем сегодня", "visibility": "public", "seen": str(seen)}
    held = client.post(url, post, headers={"HX-Request": "true"})
    assert held.status_code == 422
    text = held.content.decode()
    assert "presence-held" in text and "Закроем завтра" in text
    assert "Закроем сегодня" in text  # the text stays in the form
    assert not Message.objects.filter(body="Закроем сегодня").exists()
    assert Draft.objects.filter(user=cast.alice, case=case).exists()

    new_seen = case_seen_marker(case=case)
    assert f'name="seen" value="{new_seen}"' in text
    sent = client.post(url, {**post, "seen": str(new_seen)}, headers={"HX-Request": "true"})
    assert sent.status_code == 200
    assert Message.objects.filter(body="Закроем сегодня", author=cast.alice).exists()
    assert not Draft.objects.filter(user=cast.alice, case=case).exists()  # discarded when sent


def test_a_note_is_never_held(cast, case, client):
    client.force_login(cast.alice)
    seen = case_seen_marker(case=case)
    message_add(actor=cast.olga, case=case, body="Закроем завтра", visibility="public")
    response = client.post(
        reverse("workspace:message_create", args=[case.pk]),
        {"body": "для себя", "visibility": "internal", "seen": str(seen)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert Message.objects.filter(body="для себя", visibility=MessageVisibility.INTERNAL).exists()


def test_a_portal_answer_is_held_and_kept_as_a_draft(cast, case, client):
    client.force_login(cast.alice)
    seen = case_seen_marker(case=case)
    message_add(actor=cast.olga, case=case, body="Ответили в чате", visibility="public")
    url = reverse("portal:staff_answer", args=[case.pk])
    post = {"body": "Ответ в ЛК", "seen": str(seen), "idempotency_key": "k-1"}
    response = client.post(url, post, follow=True)
    assert "Ответили в чате" in response.content.decode()
    assert not PortalAnswer.objects.filter(case=case).exists()
    draft = Draft.objects.get(user=cast.alice, case=case, kind=DraftKind.PORTAL)
    assert draft.body == "Ответ в ЛК"

    client.post(url, {**post, "seen": str(case_seen_marker(case=case))})
    assert PortalAnswer.objects.filter(case=case).count() == 1
    assert not Draft.objects.filter(user=cast.alice, case=case).exists()


def test_a_handoff_answer_is_held_when_the_case_moved_on(cast, case, client):
    handoff = handoff_send(actor=cast.alice, case=case, department=cast.security, question="?")
    handoff_take(actor=cast.sam, handoff=handoff)
    client.force_login(cast.sam)
    page = client.get(reverse("handoffs:detail", args=[handoff.pk])).content.decode()
    seen = case_seen_marker(case=case)
    assert f'name="seen" value="{seen}"' in page
    message_add(actor=cast.alice, case=case, body="Клиенту уже ответили", visibility="public")
    url = reverse("handoffs:answer", args=[handoff.pk])
    held = client.post(url, {"answer": "Операции проверены", "seen": str(seen)})
    assert held.status_code == 422
    assert "Клиенту уже ответили" in held.content.decode()
    handoff.refresh_from_db()
    assert not handoff.answer

    client.post(url, {"answer": "Операции проверены", "seen": str(case_seen_marker(case=case))})
    handoff.refresh_from_db()
    assert handoff.answer == "Операции проверены"


@pytest.mark.django_db(transaction=True)
def test_two_replies_sent_at_the_same_moment_one_is_held(cast):
    """PostgreSQL: the guard locks the case row, so simultaneous sends are checked in turn."""
    import threading

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite has a single writer)")
    case = make_case(actor=cast.alice)
    message_add(actor=cast.alice, case=case, body="Здравствуйте!", visibility="public")
    seen = case_seen_marker(case=case)
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def send(user, body):
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                reply_guard(case=case, seen=seen, sender=user)
                message_add(actor=user, case=case, body=body, visibility="public")
            outcome[body] = "sent"
        except StaleReply:
            outcome[body] = "held"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=send, args=(cast.alice, "Закроем сегодня")),
        threading.Thread(target=send, args=(cast.olga, "Закроем завтра")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcome.values()) == ["held", "sent"]
