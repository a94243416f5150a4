"""Defect 6: every time on the viewer's (or the recipient's) clock, never UTC."""

from datetime import UTC, datetime, timedelta

from django.urls import reverse

from otklik.cases.models import Case
from otklik.common.timezones import zone
from otklik.notifications.models import Outbox
from otklik.sla.models import DeadlineKind
from otklik.sla.selectors import deadline_open_for
from otklik.sla.services import scan_deadlines
from tests.factories import make_case

# 07:24 UTC = 10:24 Moscow = 17:24 Vladivostok = 12:24 Yekaterinburg.
AT = datetime(2026, 12, 3, 7, 24, tzinfo=UTC)


def _case_at(cast):
    case = make_case(actor=cast.alice, now=AT)
    Case.objects.filter(pk=case.pk).update(created_at=AT)
    return case


def test_unknown_or_empty_zone_is_the_sites_never_utc(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    assert str(zone("")) == "Europe/Moscow"
    assert str(zone("Mars/Olympus")) == "Europe/Moscow"
    assert str(zone("Asia/Vladivostok")) == "Asia/Vladivostok"


def test_staff_pages_are_on_the_operators_own_clock(client, cast, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    case = _case_at(cast)
    client.force_login(cast.alice)
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    assert "03.12.2026 10:24" in page and 'data-tz="Europe/Moscow"' in page
    cast.alice.time_zone = "Asia/Vladivostok"
    cast.alice.save()
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    assert "03.12.2026 17:24" in page and "03.12.2026 10:24" not in page
    assert 'data-tz="Asia/Vladivostok"' in page


def test_portal_is_on_the_clients_clock(client, db, settings):
    from otklik.clients.services import client_create
    from tests.portal.test_login import code_from_outbox

    settings.TIME_ZONE = "Europe/Moscow"
    person = client_create(
        last_name="Уралова", first_name="Ольга", phones=[], emails=["o.uralova@example.com"]
    )
    person.time_zone = "Asia/Yekaterinburg"
    person.save()
    from tests.factories import UserFactory

    case = make_case(actor=UserFactory(), client=person, now=AT)
    Case.objects.filter(pk=case.pk).update(updated_at=AT)
    client.post(reverse("portal:login"), {"identifier": "o.uralova@example.com"})
    client.post(reverse("portal:login_code"), {"code": code_from_outbox("o.uralova@example.com")})
    page = client.get(reverse("portal:cases")).content.decode()
    assert "12:24" in page and "10:24" not in page


def test_deadline_mail_is_on_each_recipients_clock(cast, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    for person, tz in ((cast.olga, "Asia/Vladivostok"), (cast.sue, "")):
        person.email = f"{person.username}@example.org"
        person.time_zone = tz
        person.save()
    case = make_case(actor=cast.alice, now=AT)
    deadline = deadline_open_for(case=case, kind=DeadlineKind.RESOLUTION)
    scan_deadlines(now=deadline.due_at + timedelta(seconds=1))
    due = deadline.due_at
    olga = Outbox.objects.get(user=cast.olga).body
    sue = Outbox.objects.get(user=cast.sue).body
    assert due.astimezone(zone("Asia/Vladivostok")).strftime("%d.%m.%Y %H:%M") in olga
    assert due.astimezone(zone("Europe/Moscow")).strftime("%d.%m.%Y %H:%M") in sue
