"""Who sees which book: own, covered while a colleague is away, supervisors every book."""

from datetime import timedelta

import pytest
from django.urls import reverse

from otklik.audit.models import AuditRecord
from otklik.audit.spool import spool_flush
from otklik.cases.selectors import case_get_for_user
from otklik.common.errors import NotAllowed
from otklik.relationship.models import AssignmentChange, OnboardingStep
from otklik.relationship.services import clients_assign
from tests.factories import ClientFactory, make_case
from tests.relationship.conftest import TODAY, premium_client


def test_portfolio_lists_own_and_covered_clients_only(client, desk, cast, fixed_today):
    mine = premium_client(desk.pavel, desk.platinum, last_name="Орлов")
    hers = premium_client(desk.marina, desk.platinum, last_name="Зуева")
    other = premium_client(cast.sue, None, last_name="Чужой")
    client.force_login(desk.pavel)
    page = client.get(reverse("relationship:portfolio")).content.decode()
    assert "Орлов" in page and "Зуева" in page and "Чужой" not in page
    assert client.get(reverse("relationship:client", args=[other.pk])).status_code == 404
    assert client.get(reverse("relationship:client", args=[hers.pk])).status_code == 200
    # Search narrows the book; the page is audited per client listed.
    page = client.get(reverse("relationship:portfolio"), {"q": "орл"}).content.decode()
    assert "Орлов" in page and "Зуева" not in page
    spool_flush()
    assert AuditRecord.objects.filter(client=mine, action="client.list", actor=desk.pavel).exists()


def test_deputy_loses_the_book_when_the_absence_ends(client, desk, cast, monkeypatch):
    from django.utils import timezone

    hers = premium_client(desk.marina, desk.platinum)
    case = make_case(actor=desk.marina, client=hers)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    assert case_get_for_user(user=desk.pavel, case_id=case.pk) == case
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY + timedelta(days=30))
    from django.http import Http404

    with pytest.raises(Http404):
        case_get_for_user(user=desk.pavel, case_id=case.pk)
    client.force_login(desk.pavel)
    assert client.get(reverse("relationship:client", args=[hers.pk])).status_code == 404


def test_operators_have_no_desk_supervisor_sees_any_book(client, desk, cast, fixed_today):
    premium_client(desk.marina, desk.platinum, last_name="Зуева")
    client.force_login(cast.alice)
    assert client.get(reverse("relationship:portfolio")).status_code == 404
    assert client.get(reverse("relationship:calls")).status_code == 404
    client.force_login(cast.sue)
    page = client.get(reverse("relationship:portfolio"), {"manager": desk.marina.pk})
    assert "Зуева" in page.content.decode()


def test_bulk_move_records_history_and_starts_onboarding(client, desk, cast, fixed_today):
    fresh = ClientFactory()
    moved = premium_client(desk.marina, desk.platinum)
    with pytest.raises(NotAllowed):
        clients_assign(actor=desk.pavel, clients=[fresh], to_manager=desk.pavel)
    client.force_login(cast.sue)
    r = client.post(
        reverse("relationship:assign"),
        {"client": [fresh.pk, moved.pk], "to_manager": desk.pavel.pk, "reason": "отпуск"},
    )
    assert r.status_code == 302
    fresh.refresh_from_db()
    moved.refresh_from_db()
    assert fresh.personal_manager == moved.personal_manager == desk.pavel
    history = AssignmentChange.objects.filter(client=moved).get()
    assert (history.from_manager, history.to_manager, history.by) == (
        desk.marina,
        desk.pavel,
        cast.sue,
    )
    # Only the client new to personal service gets the onboarding checklist.
    assert OnboardingStep.objects.filter(client=fresh).count() == 4
    assert not OnboardingStep.objects.filter(client=moved).exists()


def test_client_card_shows_service_profile_to_every_operator(client, desk, cast, fixed_today):
    from otklik.relationship.models import RelatedClient, Relationship

    orlov = premium_client(desk.marina, desk.platinum, address_as="Константин")
    wife = ClientFactory(last_name="Орлова")
    Relationship.objects.filter(client=orlov).update(
        informal=True, preferred_channels="звонок ДПМ", inform_about="критерии бесплатности"
    )
    RelatedClient.objects.create(client=orlov, related=wife, relation="жена")
    client.force_login(cast.alice)
    page = client.get(reverse("workspace:client_card", args=[orlov.pk])).content.decode()
    assert 'id="service-profile"' in page
    assert "Константин" in page and "критерии бесплатности" in page and "Орлова" in page
    assert "Белова" in page or "Марина" in page
    assert 'data-test="deputy"' in page  # Marina is away: Pavel answers for her


def test_profile_edit_is_audited(client, desk, fixed_today):
    orlov = premium_client(desk.pavel, desk.platinum)
    client.force_login(desk.pavel)
    r = client.post(
        reverse("relationship:client", args=[orlov.pk]),
        {
            "address_as": "Костя",
            "informal": "1",
            "package_level": "platinum",
            "preferred_channels": "чат",
            "interests": "танки",
        },
    )
    assert r.status_code == 302
    orlov.refresh_from_db()
    assert orlov.address_as == "Костя" and orlov.relationship.informal
    assert AuditRecord.objects.filter(client=orlov, action="client.profile.update").exists()


def test_supervisor_assigns_an_unassigned_premium_client(client, desk, cast, fixed_today):
    from otklik.clients.models import Segment

    newcomer = ClientFactory(segment=Segment.PREMIUM, last_name="Гордеева")
    ClientFactory(last_name="Обычнов")
    client.force_login(cast.sue)
    page = client.get(reverse("relationship:portfolio"), {"manager": 0}).content.decode()
    assert "Гордеева" in page and "Обычнов" not in page
    client.post(
        reverse("relationship:assign"), {"client": [newcomer.pk], "to_manager": desk.pavel.pk}
    )
    newcomer.refresh_from_db()
    assert newcomer.personal_manager == desk.pavel
    client.force_login(desk.pavel)
    assert client.get(reverse("relationship:portfolio"), {"manager": 0}).status_code == 404


def test_a_portfolio_page_leaves_one_read_record_per_client_shown(client, desk):
    mine = [premium_client(desk.pavel, desk.platinum) for _ in range(3)]
    premium_client(desk.marina, desk.platinum)  # hers: covered, on the page too
    client.force_login(desk.pavel)
    assert client.get("/desk/").status_code == 200
    spool_flush()
    audited = AuditRecord.objects.filter(action="client.list", actor=desk.pavel)
    shown = set(audited.values_list("client_id", flat=True))
    assert shown >= {c.pk for c in mine} and audited.count() == len(shown) == 4
