"""The relationship NPS survey screen: who may use it, what the count says (business
line, segment, package level, quiet period, addresses), the send through the outbox,
bad input, and the answers and NPS shown per survey."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.analytics import services
from otklik.analytics.models import NpsSurvey, SurveyCampaign
from otklik.clients.models import ContactPoint, Product
from otklik.notifications.models import Outbox
from otklik.relationship.models import PackageLevel, Relationship
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
URL = reverse("analytics:surveys")


@pytest.fixture
def book(cast):
    """Premium clients: two broker clients on Platinum (one asked a month ago), a bank
    client on Platinum, a broker client on Black without e-mail; a mass broker client."""
    platinum = PackageLevel.objects.create(code="platinum", name="Platinum")
    black = PackageLevel.objects.create(code="black", name="Black")

    def person(segment, kinds, level, email=True):
        c = ClientFactory(segment=segment)
        for kind in kinds:
            Product.objects.create(client=c, kind=kind, name=kind)
        if level:
            Relationship.objects.create(client=c, package_level=level)
        if email:
            ContactPoint.objects.create(client=c, kind="email", value=f"c{c.pk}@example.ru")
        return c

    broker1 = person("premium", ["brokerage"], platinum)
    broker2 = person("premium", ["iis", "card"], platinum)
    bank = person("premium", ["card"], platinum)
    no_mail = person("premium", ["brokerage"], black, email=False)
    mass = person("mass", ["brokerage"], None)
    services.nps_survey_send(
        client=broker2, channel="email", kind="after_case", now=timezone.now() - timedelta(days=30)
    )
    return {
        "platinum": platinum,
        "black": black,
        "broker1": broker1,
        "broker2": broker2,
        "bank": bank,
        "no_mail": no_mail,
        "mass": mass,
    }


def _count(page: str, key: str) -> int:
    chunk = page.split(f'data-test="{key}">', 1)[1]
    return int(chunk.replace("<strong>", "").split("<", 1)[0].strip())


def test_only_supervisors_and_heads_open_and_send(cast, client, book):
    for user in (cast.alice, cast.olga, cast.sam, cast.pavel):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"segment": "premium"}).status_code == 403
    assert not SurveyCampaign.objects.exists()
    client.force_login(cast.sue)
    assert client.get(URL).status_code == 200
    client.logout()
    assert client.get(URL).status_code == 302  # to sign-in


def test_the_count_follows_line_segment_level_and_the_quiet_period(cast, client, book):
    client.force_login(cast.sue)
    page = client.get(URL, {"business_line": "broker", "segment": "premium", "channel": "email"})
    got = {k: _count(page.content.decode(), k) for k in ("matched", "quiet", "unreachable")}
    got["eligible"] = _count(page.content.decode(), "eligible")
    # broker1, broker2 (asked 30 days ago: quiet), no_mail (no e-mail); not bank, not mass
    assert got == {"matched": 3, "quiet": 1, "unreachable": 1, "eligible": 1}
    level = client.get(
        URL, {"package_level": book["platinum"].pk, "channel": "email"}
    ).content.decode()
    assert _count(level, "matched") == 3 and _count(level, "eligible") == 2  # broker1, bank
    sms = client.get(URL, {"business_line": "broker", "channel": "sms"}).content.decode()
    assert _count(sms, "matched") == 4 and _count(sms, "eligible") == 3  # everyone has a phone


def test_send_goes_through_the_outbox_and_answers_show_as_nps(cast, client, book):
    client.force_login(cast.sue)
    before = Outbox.objects.count()
    response = client.post(URL, {"business_line": "broker", "channel": "email"})
    assert response.status_code == 302
    campaign = SurveyCampaign.objects.get()
    assert (campaign.matched, campaign.quiet, campaign.unreachable, campaign.sent) == (4, 1, 1, 2)
    assert campaign.created_by == cast.sue and campaign.business_line == "broker"
    surveys = NpsSurvey.objects.filter(campaign=campaign)
    assert {s.client_id for s in surveys} == {book["broker1"].pk, book["mass"].pk}
    assert set(surveys.values_list("kind", flat=True)) == {"relationship"}
    assert Outbox.objects.count() == before + 2
    assert set(Outbox.objects.order_by("-pk")[:2].values_list("address", flat=True)) == {
        f"c{book['broker1'].pk}@example.ru",
        f"c{book['mass'].pk}@example.ru",
    }
    # The same choice again at once: the quiet period now covers them; nothing is sent.
    again = client.post(URL, {"business_line": "broker", "channel": "email"})
    assert again.status_code == 400 and "период тишины" in again.content.decode()
    assert SurveyCampaign.objects.count() == 1 and Outbox.objects.count() == before + 2
    # Answers: 10 and 3 → one promoter, one detractor: NPS 0, on this screen and the dashboard.
    first, second = surveys.order_by("pk")
    services.nps_answer(survey=first, score=10, comment="Всё отлично")
    services.nps_answer(survey=second, score=3)
    for url in (URL, reverse("analytics:dashboard")):
        page = client.get(url).content.decode()
        assert 'data-test="answered">2<' in page and 'data-test="nps">0<' in page


def test_bad_input_gets_a_clear_error_and_sends_nothing(cast, client, book):
    client.force_login(cast.sue)
    for params, text in (
        ({"business_line": "oil"}, "Неизвестное направление"),
        ({"segment": "vip"}, "Неизвестный сегмент"),
        ({"package_level": "99999"}, "Неизвестный уровень пакета"),
        ({"package_level": "abc"}, "нужно число"),
        ({"channel": "fax"}, "Неизвестный канал опроса"),
    ):
        for method in (client.get, client.post):
            response = method(URL, params)
            assert response.status_code == 400, params
            assert text in response.content.decode(), (params, text)
    assert not SurveyCampaign.objects.exists()
    # A valid choice nobody can get: a clear error, nothing recorded.
    response = client.post(URL, {"segment": "private", "channel": "email"})
    assert response.status_code == 400 and not SurveyCampaign.objects.exists()
