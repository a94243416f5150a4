"""Reads about handoffs: who may see, work, watch or steer, tried with users who must be
refused; the department queue's filters and order; the clock each row shows; the live channel.

Found by mutation testing of handoffs/selectors.py (docs/testing.md).
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone, translation

from otklik.accounts.models import Role
from otklik.cases.models import Interaction
from otklik.handoffs import selectors, services
from otklik.handoffs.models import Handoff, HandoffStatus
from otklik.presence.services import presence_leave, presence_touch
from otklik.sla.models import Deadline
from tests.factories import ClientFactory, DepartmentFactory, UserFactory, make_case

pytestmark = pytest.mark.django_db


def _send(staff, case, department=None, question="Проверьте операции", now=None):
    return services.handoff_send(
        actor=staff.alice,
        case=case,
        department=department or staff.security,
        question=question,
        now=now,
    )


def _visible(user) -> set[int]:
    return set(
        Handoff.objects.filter(selectors.handoffs_visible_q(user)).values_list("pk", flat=True)
    )


# --- who sees, works, watches, steers -----------------------------------------------------


def test_who_sees_which_handoff(staff, case):
    to_security = _send(staff, case)
    bobs_case = make_case(actor=staff.bob, subject="Обращение команды Б")
    to_treasury = services.handoff_send(
        actor=staff.bob, case=bobs_case, department=staff.treasury, question="Выплата?"
    )
    assert _visible(staff.sam) == {to_security.pk}
    assert _visible(staff.tom) == {to_treasury.pk}
    assert _visible(staff.alice) == _visible(staff.olga) == {to_security.pk}
    assert _visible(staff.bob) == {to_treasury.pk}
    assert _visible(staff.sue) == {to_security.pk, to_treasury.pk}
    homeless = UserFactory(username="nodept", role=Role.SPECIALIST, department=None)
    assert _visible(homeless) == set()
    staff.sam.is_active = False
    assert _visible(staff.sam) == set()
    with pytest.raises(Http404):
        selectors.handoff_get_for_user(user=staff.sam, handoff_id=to_security.pk)
    with pytest.raises(Http404):
        selectors.handoff_get_for_user(user=staff.bob, handoff_id=to_security.pk)
    got = selectors.handoff_get_for_user(user=staff.alice, handoff_id=to_security.pk)
    assert got == to_security and got.case == case


def test_a_superuser_specialist_sees_every_department(staff, case):
    handoff = _send(staff, case, department=staff.treasury)
    root = UserFactory(
        username="root", role=Role.SPECIALIST, department=staff.security, is_superuser=True
    )
    assert _visible(root) == {handoff.pk}
    assert selectors.can_work_handoff(user=root, handoff=handoff)


def test_who_may_work_a_handoff(staff, case):
    handoff = _send(staff, case)
    assert selectors.can_work_handoff(user=staff.sam, handoff=handoff)
    assert selectors.can_work_handoff(user=staff.sue, handoff=handoff)
    for refused in (staff.tom, staff.alice, staff.olga, staff.bob, staff.pavel):
        assert not selectors.can_work_handoff(user=refused, handoff=handoff)
    staff.sue.is_active = False
    assert not selectors.can_work_handoff(user=staff.sue, handoff=handoff)


def test_who_may_watch_and_steer_a_case(staff, case):
    _send(staff, case)
    assert selectors.can_watch_case(user=staff.alice, case=case)
    assert selectors.can_watch_case(user=staff.olga, case=case)
    assert selectors.can_watch_case(user=staff.sue, case=case)
    for refused in (staff.sam, staff.tom, staff.bob, staff.pavel):
        assert not selectors.can_watch_case(user=refused, case=case)
        assert not selectors.can_control_case(user=refused, case=case)
    for allowed in (staff.alice, staff.olga, staff.sue):
        assert selectors.can_control_case(user=allowed, case=case)
    staff.olga.is_active = False
    assert not selectors.can_watch_case(user=staff.olga, case=case)
    assert not selectors.can_control_case(user=staff.olga, case=case)


def test_an_owner_outside_the_team_steers_and_a_watcher_does_once_watching(staff, case):
    case.client.personal_manager = staff.pavel
    case.client.save(update_fields=["personal_manager"])
    assert selectors.can_watch_case(user=staff.pavel, case=case)
    assert not selectors.can_control_case(user=staff.pavel, case=case)
    services.case_watch(actor=staff.pavel, case=case)
    assert selectors.is_watching(user=staff.pavel, case=case)
    assert not selectors.is_watching(user=staff.olga, case=case)
    fresh = type(case).objects.get(pk=case.pk)
    assert selectors.can_control_case(user=staff.pavel, case=fresh)
    teamless = UserFactory(username="solo", role=Role.OPERATOR, team=None)
    own = make_case(actor=teamless, subject="Своё обращение")
    assert own.team_id is None and own.owner_id == teamless.pk
    assert selectors.can_control_case(user=teamless, case=own)
    assert not selectors.can_control_case(user=teamless, case=case)


def test_watchers_are_listed_in_the_order_they_took_control(staff, case):
    services.case_watch(actor=staff.sue, case=case)
    services.case_watch(actor=staff.olga, case=case, now=timezone.now() + timedelta(minutes=1))
    fresh = type(case).objects.get(pk=case.pk)
    assert selectors.case_watchers(case=fresh) == [staff.sue, staff.olga]
    assert sorted(selectors.case_watcher_ids(case=fresh)) == sorted([staff.sue.pk, staff.olga.pk])


def test_departments_are_offered_by_name(staff):
    DepartmentFactory(code="aml", name="Антифрод")
    names = list(selectors.department_list().values_list("name", flat=True))
    assert names == ["Антифрод", "Казначейство", "Служба безопасности"]


# --- the department queue -----------------------------------------------------------------


@pytest.fixture
def queue(staff, case):
    """Four handoffs to security: open, taken by sam, answered, cancelled."""
    now = timezone.now()
    other = make_case(actor=staff.alice, client=case.client, subject="Второе")
    third = make_case(actor=staff.alice, client=case.client, subject="Третье")
    fourth = make_case(actor=staff.alice, client=case.client, subject="Четвёртое")
    opened = _send(staff, case, now=now - timedelta(hours=3))
    taken = _send(staff, other, now=now - timedelta(hours=2))
    services.handoff_take(actor=staff.sam, handoff=taken)
    answered = _send(staff, third, now=now - timedelta(hours=1))
    services.handoff_answer(actor=staff.sue, handoff=answered, answer="Готово")
    cancelled = _send(staff, fourth, now=now)
    services.handoff_cancel(actor=staff.alice, handoff=cancelled)
    return {"open": opened, "taken": taken, "answered": answered, "cancelled": cancelled}


def _queue(user, status):
    return [row.handoff for row in selectors.department_queue(user=user, status=status)]


def test_the_queue_filters_by_status_and_puts_finished_ones_newest_first(staff, queue):
    assert _queue(staff.sam, "active") == [queue["open"], queue["taken"]]
    assert _queue(staff.sam, "mine") == [queue["taken"]]
    assert _queue(staff.sue, "mine") == []
    assert _queue(staff.sam, "in_work") == [queue["taken"]]
    assert _queue(staff.sam, "answered") == [queue["answered"]]
    assert _queue(staff.sam, "all") == [
        queue["cancelled"],
        queue["answered"],
        queue["taken"],
        queue["open"],
    ]
    assert _queue(staff.tom, "all") == []
    assert _queue(staff.alice, "all") == []
    homeless = UserFactory(username="nodept", role=Role.SPECIALIST, department=None)
    assert _queue(homeless, "all") == []
    staff.sam.is_active = False
    assert _queue(staff.sam, "active") == []


def test_an_overdue_handoff_heads_the_queue_and_a_paused_one_is_not_overdue(staff, case):
    now = timezone.now()
    other = make_case(actor=staff.alice, client=case.client, subject="Второе")
    fresh = _send(staff, case, now=now - timedelta(minutes=5))
    late = _send(staff, other, now=now - timedelta(days=30))
    rows = selectors.department_queue(user=staff.sam, now=now)
    assert [r.handoff for r in rows] == [late, fresh]
    assert [r.overdue for r in rows] == [True, False]
    Deadline.objects.filter(handoff=late).update(paused_at=now - timedelta(days=29))
    rows = selectors.department_queue(user=staff.sam, now=now)
    assert [r.overdue for r in rows] == [False, False]


def test_a_row_without_an_open_deadline_uses_the_handoffs_due_time(staff, case):
    now = timezone.now()
    handoff = _send(staff, case, now=now - timedelta(days=30))
    Deadline.objects.filter(handoff=handoff).delete()
    stored = Handoff.objects.get(pk=handoff.pk)
    row = selectors.handoff_row(stored, now)
    assert (row.overdue, row.remaining, row.due_at) == (True, "", stored.due_at)
    Handoff.objects.filter(pk=handoff.pk).update(due_at=now + timedelta(days=1))
    row = selectors.handoff_row(Handoff.objects.get(pk=handoff.pk), now)
    assert not row.overdue
    Handoff.objects.filter(pk=handoff.pk).update(due_at=now - timedelta(days=1), status="answered")
    assert not selectors.handoff_row(Handoff.objects.get(pk=handoff.pk), now).overdue


# --- the case page ------------------------------------------------------------------------


def test_the_case_shows_its_handoffs_newest_first_with_the_latest_question(staff, case):
    now = timezone.now()
    first = _send(staff, case, now=now - timedelta(hours=2))
    second = _send(staff, case, department=staff.treasury, now=now - timedelta(hours=1))
    services.handoff_ask_owner(actor=staff.sam, handoff=first, question="Первый вопрос")
    services.handoff_owner_reply(actor=staff.alice, handoff=first, reply="Ответ")
    services.handoff_ask_owner(actor=staff.sam, handoff=first, question="Второй вопрос")
    rows = selectors.case_handoffs(user=staff.alice, case=case, now=now)
    assert [r.handoff for r in rows] == [second, first]
    assert rows[0].pending is None
    assert rows[1].pending.text == "Второй вопрос"
    assert selectors.pending_question(handoff=first).text == "Второй вопрос"
    assert selectors.pending_question(handoff=second) is None
    assert [r.handoff for r in selectors.case_handoffs(user=staff.tom, case=case, now=now)] == [
        second
    ]
    services.handoff_answer(actor=staff.tom, handoff=second, answer="Курс 90")
    waiting = selectors.case_waiting_on(user=staff.alice, case=case, now=now)
    assert [r.handoff for r in waiting] == [first]


def test_history_is_in_order_and_an_attachment_is_found_only_on_its_handoff(staff, case):
    pdf = SimpleUploadedFile("скан.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")
    with_file = services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="См.", files=[pdf]
    )
    plain = _send(staff, case, department=staff.treasury)
    services.handoff_take(actor=staff.sam, handoff=with_file)
    history = selectors.handoff_history(handoff=with_file)
    assert [e.kind for e in history] == ["sent", "taken"]
    attachment = with_file.attachments.get()
    assert selectors.handoff_attachment_get(handoff=with_file, attachment_id=attachment.pk) == (
        attachment
    )
    with pytest.raises(Http404):
        selectors.handoff_attachment_get(handoff=plain, attachment_id=attachment.pk)


# --- the live channel ---------------------------------------------------------------------


def _interaction(client, channel, operator, started, case=None):
    return Interaction.objects.create(
        client=client, case=case, channel=channel, operator=operator, started_at=started
    )


def test_a_call_is_live_only_while_its_operator_has_the_client_or_case_open(staff, case):
    client = case.client
    now = timezone.now()
    call = _interaction(client, "phone", staff.alice, now - timedelta(minutes=3), case=case)
    assert selectors.client_live_channel(client=client, now=now) is None
    presence_touch(scope=f"case:{case.pk}", tab="t1", user=staff.alice)
    try:
        assert selectors.client_live_channel(client=client, now=now) == call
    finally:
        presence_leave(scope=f"case:{case.pk}", tab="t1", user_id=staff.alice.pk)
    presence_touch(scope=f"client:{client.pk}", tab="t2", user=staff.alice)
    try:
        assert selectors.client_live_channel(client=client, now=now) == call
    finally:
        presence_leave(scope=f"client:{client.pk}", tab="t2", user_id=staff.alice.pk)
    presence_touch(scope=f"client:{client.pk}", tab="t3", user=staff.olga)  # someone else
    try:
        assert selectors.client_live_channel(client=client, now=now) is None
    finally:
        presence_leave(scope=f"client:{client.pk}", tab="t3", user_id=staff.olga.pk)
    api_call = _interaction(client, "phone", None, now - timedelta(minutes=20))
    assert selectors.client_live_channel(client=client, now=now) == api_call
    stale = _interaction(ClientFactory(), "chat", None, now - timedelta(hours=12, minutes=1))
    assert selectors.client_live_channel(client=stale.client, now=now) is None


def test_live_labels_name_the_channel_operator_and_time(staff):
    client = ClientFactory()
    now = timezone.now().replace(hour=15, minute=0)
    started = now - timedelta(minutes=58)
    staff.alice.first_name, staff.alice.last_name = "Ирина", "Смирнова"
    at = timezone.localtime(started).strftime("%H:%M")
    with translation.override("ru"):
        labels = [
            selectors.live_channel_label(_interaction(client, kind, staff.alice, started), now)
            for kind in ("phone", "messenger", "office")
        ]
        anonymous = selectors.live_channel_label(_interaction(client, "chat", None, started), now)
        yesterday = now - timedelta(days=1)
        old = selectors.live_channel_label(_interaction(client, "chat", None, yesterday), now)
    assert labels == [
        f"на звонке с оператором Ирина Смирнова с {at}",
        f"в мессенджере с оператором Ирина Смирнова с {at}",
        f"Офис: с оператором Ирина Смирнова с {at}",
    ]
    assert anonymous == f"в чате с оператором — с {at}"
    assert old == "в чате с оператором — с " + timezone.localtime(yesterday).strftime("%d.%m %H:%M")


def test_reachability_names_the_live_case_only_to_who_may_open_it(staff, case):
    now = timezone.now()
    _interaction(case.client, "chat", staff.alice, now - timedelta(minutes=1), case=case)
    for_alice = selectors.client_reachability(client=case.client, user=staff.alice, now=now)
    for_bob = selectors.client_reachability(client=case.client, user=staff.bob, now=now)
    assert for_alice.live_case_reference == case.reference
    assert for_bob.live_case_reference == "" and for_bob.live is not None
    assert for_bob.live_label and not for_bob.has_limits
    assert [c.value for c in for_bob.contacts] == [
        c.value for c in selectors.client_contact_list(client=case.client)
    ]
    quiet = selectors.client_reachability(client=ClientFactory(), user=staff.alice, now=now)
    assert (quiet.live, quiet.live_label, quiet.live_case_reference) == (None, "", "")
    assert HandoffStatus.OPEN in selectors.ACTIVE_STATUSES
