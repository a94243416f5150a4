"""Publication through the job system, acknowledgements, refreshers, pins and the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.knowledge.models import (
    Acknowledgement,
    Article,
    ArticleSearchDoc,
    CasePin,
    RefresherDigest,
)
from otklik.knowledge.search import search
from otklik.knowledge.selectors import STAFF_AUDIENCES, ack_matrix, refreshers_for_user
from otklik.knowledge.services import (
    acknowledgement_confirm,
    article_archive,
    article_create,
    article_edit,
    article_mark_used,
    article_publish,
    case_pin,
    rarely_used_procedures,
    refresher_scan,
)
from tests.factories import UserFactory, make_case


def _procedure(cast, **kwargs):
    kwargs.setdefault("title", "Возврат комиссии за пакет услуг")
    return article_create(
        author=cast.sue,
        kind=kwargs.pop("kind", "procedure"),
        audience=kwargs.pop("audience", "internal"),
        body="Комиссию возвращают по заявлению.",
        steps=["Проверьте критерии"],
        **kwargs,
    )


def _pending(article):
    return set(
        Acknowledgement.objects.filter(article=article, acknowledged_at__isnull=True).values_list(
            "user__username", flat=True
        )
    )


# --- index through the job system ---------------------------------------------------------


@pytest.mark.real_on_commit
def test_publish_indexes_through_a_job_after_the_commit(cast, django_capture_on_commit_callbacks):
    article = _procedure(cast)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        article_publish(article=article, author=cast.sue)
    assert not ArticleSearchDoc.objects.filter(article=article).exists()  # not before commit
    assert search("возврат комиссии", audiences=STAFF_AUDIENCES).hits == []
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: the job runs (immediate backend) and re-indexes
    assert search("возврат комиссии", audiences=STAFF_AUDIENCES).hits[0].slug == article.slug

    with django_capture_on_commit_callbacks(execute=True):
        article_archive(article=article, author=cast.sue)
    assert search("возврат комиссии", audiences=STAFF_AUDIENCES).hits == []


@pytest.mark.real_on_commit
def test_a_dead_queue_still_indexes(cast, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {
        "default": {
            "BACKEND": "otklik.jobs.backends.RQBackend",
            "OPTIONS": {"URL": "redis://127.0.0.1:1/0"},
        }
    }
    article = _procedure(cast)
    with django_capture_on_commit_callbacks(execute=True):
        article_publish(article=article, author=cast.sue)
    assert ArticleSearchDoc.objects.filter(article=article).exists()


# --- acknowledgements ------------------------------------------------------------------------


def test_first_publication_asks_the_front_line_to_acknowledge(cast):
    article = _procedure(cast)
    article_publish(article=article, author=cast.sue)
    # Operators, senior operators and personal managers; not specialists, not the publisher.
    assert _pending(article) == {"alice", "olga", "bob", "pavel"}


def test_role_limited_procedure_asks_only_those_roles(cast):
    article = _procedure(cast, roles=[Role.SENIOR_OPERATOR, Role.SUPERVISOR])
    article_publish(article=article, author=cast.olga)
    assert _pending(article) == {"sue"}  # olga published it herself


def test_faq_needs_no_acknowledgement(cast):
    article = _procedure(cast, kind="faq", audience="both")
    article_publish(article=article, author=cast.sue)
    assert _pending(article) == set()


def test_minor_change_moves_pending_requests_material_change_asks_again(cast):
    article = _procedure(cast)
    article_publish(article=article, author=cast.sue)
    acknowledgement_confirm(user=cast.alice, article=article)
    assert "alice" not in _pending(article)

    article_edit(article=article, author=cast.sue, body="Запятая исправлена.")
    v2 = article_publish(article=article, author=cast.sue)  # minor
    assert "alice" not in _pending(article)
    assert set(
        Acknowledgement.objects.filter(article=article, acknowledged_at__isnull=True).values_list(
            "version", flat=True
        )
    ) == {v2.pk}

    article_edit(article=article, author=cast.sue, steps=["Новый порядок"])
    v3 = article_publish(article=article, author=cast.sue, material=True)
    assert v3.material
    assert _pending(article) == {"alice", "olga", "bob", "pavel"}
    assert (
        Acknowledgement.objects.filter(article=article, acknowledged_at__isnull=False).count() == 1
    )


def test_inactive_staff_are_not_asked(cast):
    cast.bob.is_active = False
    cast.bob.save(update_fields=["is_active"])
    article = _procedure(cast)
    article_publish(article=article, author=cast.sue)
    assert "bob" not in _pending(article)


def test_supervisor_matrix_shows_who_has_not_acknowledged(cast, client):
    article = _procedure(cast)
    article_publish(article=article, author=cast.sue)
    acknowledgement_confirm(user=cast.alice, article=article)
    matrix = ack_matrix(user=cast.sue)
    assert [a.slug for a in matrix.articles] == [article.slug]
    names = {person.username: pending for person, _cells, pending in matrix.rows}
    assert names == {"olga": 1, "bob": 1, "pavel": 1}

    client.force_login(cast.sue)
    html = client.get(reverse("knowledge:acks")).content.decode()
    assert "kb-cell-pending" in html and article.title[:30] in html
    client.force_login(cast.alice)
    assert client.get(reverse("knowledge:acks")).status_code == 404


def test_operator_sees_the_banner_and_acknowledges(cast, client):
    article = _procedure(cast)
    article_publish(article=article, author=cast.sue)
    client.force_login(cast.alice)
    page = client.get(reverse("knowledge:banner")).content.decode()
    assert "kb-banner" in page and reverse("knowledge:mine") in page
    client.post(reverse("knowledge:ack", args=[article.slug]))
    assert "alice" not in _pending(article)
    assert "kb-banner" not in client.get(reverse("knowledge:banner")).content.decode()


# --- pins, uses and refreshers -----------------------------------------------------------


def test_pins_are_counted_once_per_case(cast, kb):
    article = Article.objects.get(slug="iis-close-blocked-units")
    case = make_case(actor=cast.alice, subject="Закрыть ИИС")
    case_pin(user=cast.alice, case=case, article=article)
    case_pin(user=cast.olga, case=case, article=article)
    other = make_case(actor=cast.alice, subject="Ещё раз закрыть ИИС")
    pin = case_pin(user=cast.alice, case=other, article=article)
    assert CasePin.objects.filter(article=article).count() == 2
    assert pin.version_id == article.published_version_id


def test_refresher_picks_procedures_the_team_has_not_used(cast, kb):
    now = timezone.now()
    Article.objects.update(created_at=now - timedelta(weeks=20))
    used = Article.objects.get(slug="iis-close-blocked-units")
    article_mark_used(user=cast.alice, article=used)
    rare_a = {a.slug for a in rarely_used_procedures(team=cast.team_a, now=now, size=100)}
    rare_b = {a.slug for a in rarely_used_procedures(team=cast.team_b, now=now, size=100)}
    assert "iis-close-blocked-units" not in rare_a and "iis-close-blocked-units" in rare_b
    # Role-limited: team A has a senior operator who may perform it, team B nobody.
    assert "call-recording-export" in rare_a and "call-recording-export" not in rare_b
    assert all(Article.objects.get(slug=s).kind == "procedure" for s in rare_a)

    # A new procedure is not "rarely used" yet: acknowledgements cover it.
    Article.objects.filter(slug="broker-transfer-assets").update(created_at=now)
    assert "broker-transfer-assets" not in {
        a.slug for a in rarely_used_procedures(team=cast.team_b, now=now, size=100)
    }


def test_refresher_scan_runs_once_a_week_and_can_be_marked_read(cast, kb, client, settings):
    settings.KNOWLEDGE_REFRESHER_SIZE = 3
    now = timezone.now()
    Article.objects.update(created_at=now - timedelta(weeks=20))
    UserFactory(username="inactive-team", team=cast.team_a, is_active=False)
    created = refresher_scan(now=now)
    assert created == 2  # team A and team B
    assert refresher_scan(now=now) == 0  # same week: nothing
    digest = RefresherDigest.objects.get(team=cast.team_a)
    assert digest.articles.count() == 3
    assert refreshers_for_user(user=cast.alice) == [digest]

    client.force_login(cast.alice)
    assert "kb-banner" in client.get(reverse("knowledge:banner")).content.decode()
    client.post(reverse("knowledge:refresher_read", args=[digest.pk]))
    assert refreshers_for_user(user=cast.alice) == []
    client.force_login(cast.bob)  # another team's digest is not his
    assert client.post(reverse("knowledge:refresher_read", args=[digest.pk])).status_code == 404
    assert refresher_scan(now=now + timedelta(weeks=1)) == 2


def test_refresher_scan_is_registered(settings):
    scans = [path for path, _every in settings.OTKLIK_PERIODIC_SCANS]
    assert "otklik.knowledge.services.refresher_scan" in scans


def test_only_editors_publish(cast):
    article = _procedure(cast)
    with pytest.raises(PermissionDenied):
        article_publish(article=article, author=cast.alice)


# --- API -------------------------------------------------------------------------------


def test_anonymous_api_gets_client_facing_articles_only(client, kb):
    data = client.get("/api/knowledge/search", {"q": "закрыть иис заблокированы паи"}).json()
    slugs = [h["slug"] for h in data["hits"]]
    assert slugs and "iis-close-blocked-units" not in slugs
    assert all(h["audience"] in ("client", "both") for h in data["hits"])
    assert client.get("/api/knowledge/articles/iis-close-blocked-units").status_code == 404
    article = client.get("/api/knowledge/articles/iis-close-standard").json()
    assert article["title"] and article["steps"]


def test_staff_api_gets_internal_procedures(client, cast, kb):
    client.force_login(cast.alice)
    data = client.get("/api/knowledge/search", {"q": "закрыть иис заблокированы паи"}).json()
    assert data["hits"][0]["slug"] == "iis-close-blocked-units"
    assert client.get("/api/knowledge/articles/iis-close-blocked-units").status_code == 200


def test_a_bad_token_is_refused_not_treated_as_anonymous(client, kb):
    response = client.get(
        "/api/knowledge/search", {"q": "иис"}, HTTP_AUTHORIZATION="Bearer otk_nonsense"
    )
    assert response.status_code == 401
