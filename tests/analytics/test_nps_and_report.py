"""NPS surveys (after a closed case, quiet period, relationship survey, the answer page)
and the weekly report through the outbox."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from otklik.accounts.models import Role
from otklik.analytics import reports, rollups, services
from otklik.analytics.models import NpsSurvey, ReportSubscription
from otklik.cases.models import CaseStatus
from otklik.clients.models import ContactPoint
from otklik.common.errors import ServiceError
from otklik.notifications.models import Outbox
from tests.analytics.builders import raw_case, raw_contact
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday


def closed_case(client, team=None, at=NOW - timedelta(hours=3)):
    c = raw_case(client=client, team=team, created=at - timedelta(hours=1), resolved=at)
    c.status, c.is_open, c.closed_at = CaseStatus.CLOSED, False, at
    c.save()
    return c


def test_after_case_survey_by_email_else_sms_with_a_quiet_period(cast, settings):
    settings.OTKLIK_NPS_QUIET_DAYS = 90
    with_email, phone_only = ClientFactory(), ClientFactory()
    ContactPoint.objects.create(client=with_email, kind="email", value="petr@example.ru")
    closed_case(with_email, cast.team_a)
    closed_case(phone_only)
    assert services.nps_after_case_scan(now=NOW) == 2
    channels = dict(NpsSurvey.objects.values_list("client_id", "channel"))
    assert channels == {with_email.pk: "email", phone_only.pk: "sms"}
    survey = NpsSurvey.objects.get(client=with_email)
    assert survey.team_id == cast.team_a.pk
    assert Outbox.objects.filter(channel="email", address="petr@example.ru").exists()
    # Another case closed a month later: within 90 days, the client is not asked again.
    closed_case(with_email, at=NOW + timedelta(days=30))
    assert services.nps_after_case_scan(now=NOW + timedelta(days=30, hours=1)) == 0
    # After the quiet period they are.
    closed_case(with_email, at=NOW + timedelta(days=95))
    assert services.nps_after_case_scan(now=NOW + timedelta(days=95, hours=1)) == 1
    # A case closed long ago is not surveyed late.
    closed_case(ClientFactory(), at=NOW - timedelta(days=5))
    assert services.nps_after_case_scan(now=NOW) == 0


def test_relationship_survey_to_a_segment_honours_the_quiet_period(cast):
    from otklik.analytics.selectors import Audience

    vip = [ClientFactory(segment="premium") for _ in range(3)]
    ClientFactory(segment="mass")
    services.nps_survey_send(client=vip[0], channel="sms", kind="after_case", now=NOW)
    audience = Audience(segment="premium", channel="sms")
    campaign = services.nps_relationship_send(actor=cast.sue, audience=audience, now=NOW)
    campaign.refresh_from_db()
    assert (campaign.matched, campaign.quiet, campaign.sent) == (3, 1, 2)
    assert set(NpsSurvey.objects.filter(kind="relationship").values_list("segment", flat=True)) == {
        "premium"
    }
    assert NpsSurvey.objects.filter(campaign=campaign).count() == 2
    with pytest.raises(ServiceError):
        services.nps_relationship_send(actor=cast.alice, audience=audience)
    # Sent again at once: everybody is in the quiet period, nothing is sent or recorded.
    with pytest.raises(ServiceError, match="период тишины"):
        services.nps_relationship_send(actor=cast.sue, audience=audience, now=NOW)
    assert NpsSurvey.objects.filter(kind="relationship").count() == 2


def test_the_client_answers_once_and_the_answer_reaches_the_rollups(cast, client, settings):
    person = ClientFactory()
    case = closed_case(person, cast.team_a)
    services.nps_survey_send(client=person, channel="portal", kind="after_case", case=case)
    survey = NpsSurvey.objects.get()
    raw = "token-for-test"
    survey.token_hash = services.token_hash(raw)
    survey.save()
    url = reverse("analytics:nps_answer", args=[raw])
    assert (
        "0 — совсем нет" in client.get(url).content.decode() or client.get(url).status_code == 200
    )
    assert client.post(url, {"score": "11"}).status_code == 400
    assert client.post(url, {"score": "x"}).status_code == 400
    response = client.post(url, {"score": "9", "comment": "Быстро решили <b>вопрос</b>"})
    assert response.status_code == 200 and 'id="nps-thanks"' in response.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (9, "Быстро решили <b>вопрос</b>")
    with pytest.raises(ServiceError):
        services.nps_answer(survey=survey, score=3)
    assert client.get(reverse("analytics:nps_answer", args=["wrong"])).status_code == 404
    rollups.rebuild(since=survey.answered_at - timedelta(hours=1))
    from otklik.analytics.models import HourlyRollup

    row = HourlyRollup.objects.get(team_id=cast.team_a.pk, nps_count=1)
    assert row.nps_promoters == 1
    cast.sue.team = cast.team_a
    cast.sue.save()
    client.force_login(cast.sue)
    page = client.get(reverse("analytics:dashboard")).content.decode()
    assert "Быстро решили &lt;b&gt;вопрос&lt;/b&gt;" in page


def test_weekly_report_once_per_week_to_subscribers(cast, client):
    cast.sue.team = cast.team_a
    cast.sue.save()
    client.force_login(cast.sue)
    client.post(reverse("analytics:report_subscription"), {"subscribe": "1", "email": "sue@x.ru"})
    assert ReportSubscription.objects.get().email == "sue@x.ru"
    with pytest.raises(ServiceError):
        services.report_subscribe(user=cast.alice, email="a@x.ru")
    c = raw_case(client=ClientFactory(), team=cast.team_a, created=NOW - timedelta(hours=1))
    raw_contact(c, at=c.created_at)
    rollups.rebuild(since=NOW - timedelta(days=20), now=NOW)
    monday_early = datetime(2026, 3, 16, 3, 0, tzinfo=UTC)  # 06:00 in Moscow
    assert reports.weekly_report_scan(now=monday_early) == 0
    monday = datetime(2026, 3, 16, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
    assert reports.weekly_report_scan(now=monday) == 1
    assert reports.weekly_report_scan(now=monday + timedelta(hours=1)) == 0
    mail = Outbox.objects.get(address="sue@x.ru")
    assert "2026-W11" in mail.subject and "Контакты: 1" in mail.body
    client.post(reverse("analytics:report_subscription"), {"subscribe": "0"})
    assert not ReportSubscription.objects.exists()
    assert UserFactory(role=Role.SUPERVISOR)  # a supervisor without subscription gets nothing
    assert reports.weekly_report_scan(now=monday + timedelta(days=7)) == 0
