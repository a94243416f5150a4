"""The client's pages: only their own data, public messages only, replies, ratings, requests."""

import pytest
from django.urls import reverse

from otklik.cases.models import Case, CaseStatus, Message, MessageVisibility
from otklik.cases.services import case_transition, message_add
from otklik.portal import selectors, services
from otklik.portal.models import CsiRating
from tests.factories import TopicFactory, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def court_case(cast, dmitry):
    case = make_case(actor=cast.alice, client=dmitry, subject="Сумма долга по иску")
    message_add(
        actor=cast.alice,
        case=case,
        body="Юристы сказали: суд 14 числа. ВНУТРЕННЕЕ",
        visibility=MessageVisibility.INTERNAL,
    )
    answer = message_add(
        actor=cast.alice,
        case=case,
        body="Дмитрий Павлович, сумма по иску 38 640 ₽.",
        visibility=MessageVisibility.PUBLIC,
    )
    return case, answer


def test_client_a_cannot_read_client_b_case(client, portal_login, court_case, tatiana):
    case, answer = court_case
    portal_login(client, tatiana)
    assert client.get(reverse("portal:case_detail", args=[case.pk])).status_code == 404
    reply = client.post(reverse("portal:case_reply", args=[case.pk]), {"body": "чужое"})
    assert reply.status_code == 404
    rate = client.post(reverse("portal:message_rate", args=[case.pk, answer.pk]), {"score": "1"})
    assert rate.status_code == 404
    assert not CsiRating.objects.exists()
    assert not Message.objects.filter(body="чужое").exists()
    cases_page = client.get(reverse("portal:cases")).content.decode()
    assert "Сумма долга по иску" not in cases_page


def test_rating_another_cases_message_through_own_case_is_404(
    client, portal_login, court_case, cast, tatiana
):
    _case, answer = court_case
    own = make_case(actor=cast.alice, client=tatiana, subject="Мой вопрос")
    portal_login(client, tatiana)
    response = client.post(reverse("portal:message_rate", args=[own.pk, answer.pk]), {"score": "5"})
    assert response.status_code == 404
    assert not CsiRating.objects.exists()


def test_pages_need_a_portal_login(client, court_case):
    case, _answer = court_case
    for url in (
        reverse("portal:cases"),
        reverse("portal:case_detail", args=[case.pk]),
        reverse("portal:notifications"),
        reverse("portal:case_new"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("portal:login")


def test_staff_login_is_not_a_portal_login(client, cast, court_case):
    case, _answer = court_case
    client.force_login(cast.sue)
    assert client.get(reverse("portal:case_detail", args=[case.pk])).status_code == 302


def test_internal_notes_never_reach_the_portal(client, portal_login, court_case, dmitry):
    case, _answer = court_case
    portal_login(client, dmitry)
    page = client.get(reverse("portal:case_detail", args=[case.pk])).content.decode()
    assert "38 640" in page
    assert "ВНУТРЕННЕЕ" not in page
    entries = selectors.portal_case_messages(client=dmitry, case=case)
    assert [e.message.visibility for e in entries] == ["public"]


def test_staff_are_shown_by_first_name_only(client, portal_login, court_case, dmitry, cast):
    case, _answer = court_case
    portal_login(client, dmitry)
    page = client.get(reverse("portal:case_detail", args=[case.pk])).content.decode()
    assert cast.alice.first_name in page
    assert cast.alice.last_name not in page


def test_unread_badge_until_the_case_is_opened(client, portal_login, court_case, dmitry):
    case, _answer = court_case
    portal_login(client, dmitry)
    assert [c.unread for c in selectors.portal_cases(client=dmitry)] == [1]
    page = client.get(reverse("portal:cases")).content.decode()
    assert "p-case-unread" in page and 'id="unread-total"' in page
    client.get(reverse("portal:case_detail", args=[case.pk]))
    assert [c.unread for c in selectors.portal_cases(client=dmitry)] == [0]


def test_user_text_is_escaped(client, portal_login, cast, dmitry):
    case = make_case(actor=cast.alice, client=dmitry, subject="<script>alert(1)</script>")
    message_add(
        actor=cast.alice, case=case, body="<img src=x onerror=alert(2)>", visibility="public"
    )
    portal_login(client, dmitry)
    page = client.get(reverse("portal:case_detail", args=[case.pk])).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("status", [CaseStatus.ANSWERED, CaseStatus.RESOLVED, CaseStatus.CLOSED])
def test_reply_reopens_or_continues_the_case(
    client, portal_login, court_case, dmitry, cast, status
):
    case, _answer = court_case
    path = {
        CaseStatus.ANSWERED: [CaseStatus.ANSWERED],
        CaseStatus.RESOLVED: [CaseStatus.RESOLVED],
        CaseStatus.CLOSED: [CaseStatus.RESOLVED, CaseStatus.CLOSED],
    }[status]
    for target in path:
        case_transition(actor=cast.alice, case=case, to_status=target)
    portal_login(client, dmitry)
    response = client.post(
        reverse("portal:case_reply", args=[case.pk]), {"body": "А можно погасить до суда?"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.is_open
    message = Message.objects.filter(case=case).latest("id")
    assert (message.author_kind, message.visibility) == ("client", "public")


def test_reply_tells_the_owner_live(client, portal_login, court_case, dmitry, cast):
    from otklik.live.models import LiveEvent

    case, _answer = court_case
    portal_login(client, dmitry)
    client.post(reverse("portal:case_reply", args=[case.pk]), {"body": "Спасибо, ещё вопрос"})
    assert LiveEvent.objects.filter(user=cast.alice, case=case, kind="portal_reply").exists()


def test_empty_reply_is_refused(client, portal_login, court_case, dmitry):
    case, _answer = court_case
    portal_login(client, dmitry)
    response = client.post(reverse("portal:case_reply", args=[case.pk]), {"body": "  "})
    assert response.status_code == 422
    assert "p-error" in response.content.decode()


@pytest.mark.parametrize("score", ["0", "6", "пять", "", "4.5", "-1"])
def test_rating_validation(client, portal_login, court_case, dmitry, score):
    case, answer = court_case
    portal_login(client, dmitry)
    response = client.post(
        reverse("portal:message_rate", args=[case.pk, answer.pk]),
        {"score": score, "comment": "x"},
    )
    assert response.status_code == 422
    assert "от 1 до 5" in response.content.decode()
    assert not CsiRating.objects.exists()


def test_rating_is_saved_once_and_can_be_changed(client, portal_login, court_case, dmitry):
    case, answer = court_case
    portal_login(client, dmitry)
    url = reverse("portal:message_rate", args=[case.pk, answer.pk])
    assert client.post(url, {"score": "4", "comment": "Понятно"}).status_code == 302
    assert client.post(url, {"score": "5", "comment": "Очень понятно"}).status_code == 302
    rating = CsiRating.objects.get()
    assert (rating.score, rating.comment, rating.client_id) == (5, "Очень понятно", dmitry.pk)


def test_rating_cannot_be_changed_after_the_period(court_case, dmitry):
    from django.utils import timezone

    case, answer = court_case
    services.portal_rating_set(client=dmitry, case=case, message=answer, score=3)
    later = timezone.now() + services.RATING_EDIT_PERIOD + timezone.timedelta(minutes=1)
    with pytest.raises(services.ServiceError):
        services.portal_rating_set(client=dmitry, case=case, message=answer, score=5, now=later)
    assert CsiRating.objects.get().score == 3


def test_clients_own_message_cannot_be_rated(court_case, dmitry):
    case, _answer = court_case
    mine = services.portal_reply(client=dmitry, case=case, body="Мой вопрос")
    with pytest.raises(services.ServiceError):
        services.portal_rating_set(client=dmitry, case=case, message=mine, score=5)


def test_new_request_opens_a_portal_case(client, portal_login, dmitry, cast):
    topic = TopicFactory(name="Судебное взыскание", default_team=cast.team_a)
    portal_login(client, dmitry)
    response = client.post(
        reverse("portal:case_new"),
        {"subject": "Дата суда", "body": "Когда заседание?", "topic": str(topic.pk)},
    )
    assert response.status_code == 302
    case = Case.objects.get(client=dmitry)
    assert (case.channel, case.topic, case.team, case.owner, case.created_by) == (
        "portal",
        topic,
        cast.team_a,
        None,
        None,
    )
    assert case.messages.get().author_kind == "client"


def test_new_request_needs_subject_and_text(client, portal_login, dmitry):
    portal_login(client, dmitry)
    response = client.post(reverse("portal:case_new"), {"subject": "", "body": ""})
    assert response.status_code == 422
    assert not Case.objects.exists()
    response = client.post(
        reverse("portal:case_new"), {"subject": "x", "body": "y", "topic": "999"}
    )
    assert response.status_code == 422
    assert not Case.objects.exists()


def test_notifications_list_shows_own_notifications_but_not_login_codes(
    client, portal_login, dmitry, tatiana
):
    from otklik.notifications.services import notify

    notify(key="t1", channel="sms", address="+79125740361", body="Ответ готов", client=dmitry)
    notify(key="t2", channel="sms", address="+79872165904", body="Чужое", client=tatiana)
    services.portal_code_request(identifier="+79125740361", ip="203.0.113.1")
    portal_login(client, dmitry)
    page = client.get(reverse("portal:notifications")).content.decode()
    assert "Ответ готов" in page
    assert "Чужое" not in page
    assert "Код для входа" not in page and "code to log in" not in page


def test_portal_pages_are_not_cached(client, portal_login, dmitry):
    portal_login(client, dmitry)
    response = client.get(reverse("portal:cases"))
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
