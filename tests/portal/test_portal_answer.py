"""Story 001's standard: «ответ в ЛК в течение суток», its notifications and its counters."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.cases.models import CaseEvent, CaseStatus, Message
from otklik.handoffs.services import handoff_send
from otklik.notifications.models import Outbox
from otklik.portal import selectors, services
from otklik.portal.models import PortalAnswer
from otklik.sla.models import Deadline
from tests.factories import TopicFactory, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def court_case(cast, dmitry):
    return make_case(
        actor=cast.alice,
        client=dmitry,
        subject="Сумма долга и стадия судебного взыскания",
        topic=TopicFactory(name="Судебное взыскание"),
    )


def test_promise_starts_a_24h_portal_deadline(court_case, cast):
    now = timezone.now()
    deadline = services.portal_answer_promise(actor=cast.alice, case=court_case, now=now)
    assert deadline.kind == "portal_answer"
    assert deadline.due_at - deadline.started_at == timedelta(hours=24)
    assert deadline.started_at == now
    court_case.refresh_from_db()
    assert court_case.status == CaseStatus.IN_PROGRESS
    assert CaseEvent.objects.filter(case=court_case, field="portal_answer_due").count() == 1
    # Promising twice keeps the running clock (and adds no second history row).
    again = services.portal_answer_promise(actor=cast.alice, case=court_case)
    assert again.pk == deadline.pk
    assert CaseEvent.objects.filter(case=court_case, field="portal_answer_due").count() == 1


def test_promise_with_an_open_handoff_waits_for_the_department(court_case, cast):
    handoff_send(actor=cast.alice, case=court_case, department=cast.security, question="Сумма?")
    services.portal_answer_promise(actor=cast.alice, case=court_case)
    court_case.refresh_from_db()
    assert court_case.status == CaseStatus.WAITING_DEPARTMENT


def test_promise_follows_the_topic_policy(court_case, cast):
    from otklik.sla.models import SlaPolicy

    SlaPolicy.objects.create(
        name="Суд: 8 часов", topic=court_case.topic, portal_answer_minutes=8 * 60
    )
    deadline = services.portal_answer_promise(actor=cast.alice, case=court_case)
    assert deadline.target_minutes == 8 * 60


def test_specialist_cannot_promise_or_answer(court_case, cast):
    handoff_send(actor=cast.alice, case=court_case, department=cast.security, question="?")
    with pytest.raises(services.ServiceError):
        services.portal_answer_promise(actor=cast.sam, case=court_case)
    with pytest.raises(services.ServiceError):
        services.portal_answer_post(actor=cast.sam, case=court_case, body="Ответ")


def test_answer_meets_the_deadline_and_notifies_once(court_case, cast, dmitry):
    services.portal_answer_promise(actor=cast.alice, case=court_case)
    first = services.portal_answer_post(
        actor=cast.alice, case=court_case, body="Сумма иска 38 640 ₽.", idempotency_key="k-1"
    )
    second = services.portal_answer_post(
        actor=cast.alice, case=court_case, body="Сумма иска 38 640 ₽.", idempotency_key="k-1"
    )
    assert first.pk == second.pk
    assert Message.objects.filter(case=court_case, visibility="public").count() == 1
    rows = Outbox.objects.filter(client=dmitry, case=court_case).order_by("channel")
    assert [(r.channel, r.address) for r in rows] == [
        ("email", "d.sokolov88@example.com"),
        ("sms", "+79125740361"),
    ]
    assert all(f"/portal/cases/{court_case.pk}/" in r.body for r in rows)
    assert "38 640" not in rows.get(channel="sms").body  # the answer itself stays in the ЛК
    deadline = Deadline.objects.get(case=court_case, kind="portal_answer")
    assert deadline.met_at is not None and deadline.met_on_time
    assert first.on_time
    court_case.refresh_from_db()
    assert court_case.status == CaseStatus.ANSWERED


def test_client_links_are_absolute_on_the_public_url(court_case, cast, dmitry, settings):
    settings.OTKLIK_PUBLIC_URL = "http://127.0.0.1:8811/"
    services.portal_answer_post(actor=cast.alice, case=court_case, body="Ответ")
    link = f"http://127.0.0.1:8811/portal/cases/{court_case.pk}/"
    rows = Outbox.objects.filter(client=dmitry, case=court_case)
    assert rows.count() == 2 and all(link in r.body for r in rows)


def test_each_answer_has_its_own_notifications(court_case, cast, dmitry):
    services.portal_answer_post(actor=cast.alice, case=court_case, body="Первый ответ")
    services.portal_answer_post(actor=cast.alice, case=court_case, body="Уточнение")
    assert Outbox.objects.filter(client=dmitry, case=court_case).count() == 4
    assert PortalAnswer.objects.filter(case=court_case).count() == 2


def test_answer_is_marked_in_the_portal(client, portal_login, court_case, cast, dmitry):
    answer = services.portal_answer_post(actor=cast.alice, case=court_case, body="Ответ юристов")
    portal_login(client, dmitry)
    page = client.get(reverse("portal:case_detail", args=[court_case.pk])).content.decode()
    assert f'id="message-{answer.message_id}"' in page and "p-msg-answer" in page


def test_open_deadline_is_shown_to_the_client(client, portal_login, court_case, cast, dmitry):
    services.portal_answer_promise(actor=cast.alice, case=court_case)
    portal_login(client, dmitry)
    page = client.get(reverse("portal:case_detail", args=[court_case.pk])).content.decode()
    assert 'id="answer-awaited"' in page


def test_stats_count_on_time_and_late(cast, dmitry):
    start = timezone.now() - timedelta(days=3)
    on_time = make_case(actor=cast.alice, client=dmitry, subject="Вовремя", now=start)
    late = make_case(actor=cast.alice, client=dmitry, subject="Поздно", now=start)
    services.portal_answer_promise(actor=cast.alice, case=on_time, now=start)
    services.portal_answer_promise(actor=cast.alice, case=late, now=start)
    services.portal_answer_post(
        actor=cast.alice, case=on_time, body="Ответ", now=start + timedelta(hours=5)
    )
    answer = services.portal_answer_post(
        actor=cast.alice, case=late, body="Ответ", now=start + timedelta(hours=30)
    )
    assert answer.on_time is False
    stats = selectors.portal_answer_stats(days=7)
    assert (stats.sent, stats.on_time, stats.late) == (2, 1, 1)
    assert stats.share_on_time == 0.5


def test_workspace_case_page_has_the_portal_panel(client, court_case, cast):
    client.force_login(cast.alice)
    page = client.get(reverse("workspace:case_detail", args=[court_case.pk])).content.decode()
    assert 'id="portal-promise"' in page and 'id="portal-answer-form"' in page
    response = client.post(reverse("portal:staff_promise", args=[court_case.pk]))
    assert response.status_code == 302
    page = client.get(reverse("workspace:case_detail", args=[court_case.pk])).content.decode()
    assert 'id="portal-due"' in page and 'id="portal-promise"' not in page
    response = client.post(
        reverse("portal:staff_answer", args=[court_case.pk]),
        {"body": "Ответ в ЛК", "idempotency_key": "abc"},
    )
    assert response.status_code == 302
    assert PortalAnswer.objects.filter(case=court_case).count() == 1


def test_staff_actions_respect_case_visibility(client, court_case, cast):
    client.force_login(cast.bob)  # team B does not see team A's case
    assert client.post(reverse("portal:staff_promise", args=[court_case.pk])).status_code == 404
    response = client.post(reverse("portal:staff_answer", args=[court_case.pk]), {"body": "x"})
    assert response.status_code == 404
    assert not Deadline.objects.filter(case=court_case, kind="portal_answer").exists()


def test_empty_answer_is_refused(client, court_case, cast):
    client.force_login(cast.alice)
    client.post(reverse("portal:staff_answer", args=[court_case.pk]), {"body": " "})
    assert not PortalAnswer.objects.exists()
    assert not Outbox.objects.exists()


def test_stats_page_moved_to_the_analytics_dashboard(client, cast):
    client.force_login(cast.sue)
    response = client.get(reverse("portal:stats") + "?days=7")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("analytics:dashboard") + "?period=week")
    queue = client.get(reverse("workspace:queue")).content.decode()
    assert 'id="portal-queue-stats"' in queue
    client.force_login(cast.alice)
    assert 'id="portal-queue-stats"' not in client.get(reverse("workspace:queue")).content.decode()
