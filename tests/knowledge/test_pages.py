"""The knowledge pages as editors, operators, supervisors and anonymous visitors meet them."""

import pytest
from django.urls import reverse

from otklik.clients.models import ChannelKind, RestrictionKind
from otklik.clients.services import client_create, product_create, restriction_place
from otklik.knowledge.models import Article, ArticleSearchDoc, ArticleVersion, CasePin
from otklik.knowledge.services import article_create, article_publish
from tests.factories import TopicFactory, make_case


def login(client, user):
    client.force_login(user)
    return client


def frozen_iis_case(actor):
    person = client_create(last_name="Кузнецов", first_name="Игорь", phones=["+7 916 482-17-35"])
    iis = product_create(
        client=person,
        kind="iis",
        name="ИИС (тип 1)",
        number="ИИС-1",
        details={"iis_type": 1, "deduction_type": "A"},
    )
    units = product_create(
        client=person,
        kind="fund_units",
        name="ОПИФ «Глобальные акции»",
        parent=iis,
        details={"fund_type": "opif", "units": "1250.3", "frozen": True},
    )
    restriction_place(product=units, kind=RestrictionKind.SANCTIONS_FREEZE, reason="санкции")
    return make_case(
        actor=actor,
        client=person,
        subject="Закрыть ИИС-1: паи ОПИФ заблокированы, вывод недоступен",
        topic=TopicFactory(name="Закрытие ИИС"),
        channel=ChannelKind.PHONE,
    )


def test_editor_creates_edits_and_publishes_through_the_pages(client, cast):
    login(client, cast.olga)
    response = client.post(
        reverse("knowledge:new"),
        {
            "kind": "procedure",
            "audience": "internal",
            "title": "Возврат комиссии за пакет услуг",
            "slug": "fee-refund",
            "steps": "Проверьте критерии\nОформите возврат",
            "body": "Комиссию возвращают **по заявлению**.",
            "product_kinds": ["card"],
        },
    )
    assert response.status_code == 302
    article = Article.objects.get(slug="fee-refund")
    assert article.status == "draft" and article.product_kinds == ["card"]

    response = client.post(
        reverse("knowledge:edit", args=["fee-refund"]),
        {
            "audience": "both",
            "title": "Возврат комиссии за пакет услуг",
            "steps": "Проверьте критерии\nПроверьте выписку\nОформите возврат",
            "body": "Комиссию возвращают **по заявлению**.",
            "note": "Добавлена проверка выписки",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?v=2")
    assert article.versions.count() == 2
    history = client.get(reverse("knowledge:history", args=["fee-refund"])).content.decode()
    assert "+- Проверьте выписку" in history and "Добавлена проверка выписки" in history

    client.post(reverse("knowledge:publish", args=["fee-refund"]), {"version": "2"})
    article.refresh_from_db()
    assert article.published_version.number == 2 and article.audience == "both"
    assert ArticleSearchDoc.objects.filter(article=article).exists()
    page = client.get(reverse("knowledge:article", args=["fee-refund"])).content.decode()
    assert "<strong>по заявлению</strong>" in page


def test_operators_read_but_do_not_edit(client, cast, kb):
    login(client, cast.alice)
    assert client.get(reverse("knowledge:home")).status_code == 200
    assert (
        client.get(reverse("knowledge:article", args=["iis-close-blocked-units"])).status_code
        == 200
    )
    assert client.get(reverse("knowledge:new")).status_code == 403
    assert (
        client.get(reverse("knowledge:edit", args=["iis-close-blocked-units"])).status_code == 403
    )
    assert (
        client.get(reverse("knowledge:history", args=["iis-close-blocked-units"])).status_code
        == 403
    )
    assert (
        client.post(reverse("knowledge:publish", args=["iis-close-blocked-units"])).status_code
        == 403
    )
    assert (
        client.post(reverse("knowledge:archive", args=["iis-close-blocked-units"])).status_code
        == 403
    )
    # Role-limited procedure: not for operators, not even by its address.
    assert (
        client.get(reverse("knowledge:article", args=["call-recording-export"])).status_code == 404
    )


def test_anonymous_is_sent_to_login(client, kb):
    response = client.get(reverse("knowledge:article", args=["iis-close-blocked-units"]))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_search_as_you_type_highlights_and_explains_for_editors(client, cast, kb):
    login(client, cast.olga)
    html = client.get(
        reverse("knowledge:search"), {"q": "закрыть иис заблокир", "explain": "1"}
    ).content.decode()
    assert "<mark>" in html and "kb-explain" in html and "iis-close-blocked-units" in html
    login(client, cast.alice)
    html = client.get(
        reverse("knowledge:search"), {"q": "закрыть иис заблокир", "explain": "1"}
    ).content.decode()
    assert "<mark>" in html and "kb-explain" not in html


def test_case_page_suggests_the_frozen_iis_procedure_first_and_pins_it(client, cast, kb):
    case = frozen_iis_case(cast.alice)
    login(client, cast.alice)
    page = client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    panel_url = reverse("knowledge:case_panel", args=[case.pk])
    # The panel loads right after the page (it is the page's slowest part).
    assert f'hx-get="{panel_url}" hx-trigger="load"' in page
    panel = client.get(panel_url).content.decode()
    panel = panel[panel.index('id="kb-suggestions"') :]
    first = panel[panel.index('class="kb-suggestion') :]
    assert "iis-close-blocked-units" in first[: first.index("</li>")]

    response = client.post(
        reverse("knowledge:case_pin", args=[case.pk]),
        {"slug": "iis-close-blocked-units"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "kb-pins" in response.content.decode()
    client.post(reverse("knowledge:case_pin", args=[case.pk]), {"slug": "iis-close-blocked-units"})
    assert CasePin.objects.filter(case=case).count() == 1  # pinning twice is one pin

    login(client, cast.olga)
    listing = client.get(reverse("knowledge:home"), {"sort": "pins"}).content.decode()
    first_row = listing[listing.index("<tbody>") :]
    assert "iis-close-blocked-units" in first_row[: first_row.index("</tr>")]
    page = client.get(reverse("knowledge:article", args=["iis-close-blocked-units"]))
    assert '<strong class="kb-pin-count">1</strong>' in page.content.decode()


def test_pinning_needs_access_to_the_case(client, cast, kb):
    case = frozen_iis_case(cast.alice)
    login(client, cast.bob)  # operator of another team
    response = client.post(
        reverse("knowledge:case_pin", args=[case.pk]), {"slug": "iis-close-blocked-units"}
    )
    assert response.status_code == 404
    assert not CasePin.objects.exists()


def test_markdown_is_sanitised(client, cast):
    article = article_create(
        author=cast.sue,
        kind="faq",
        audience="both",
        title="Опасная статья",
        body=(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
            "[ссылка](javascript:alert(3)) [[no-such-article]]"
        ),
    )
    article_publish(article=article, author=cast.sue)
    for url in (
        reverse("faq:article", args=[article.slug]),
        reverse("knowledge:article", args=[article.slug]),
    ):
        if "knowledge" in url:
            login(client, cast.alice)
        html = client.get(url).content.decode()
        body = html[html.index("<article") :]
        assert "<script>alert" not in body and "<img" not in body
        assert 'href="javascript' not in body
        assert "&lt;script&gt;" in body


def test_wiki_links_point_to_the_right_surface(client, cast, kb):
    article = article_create(
        author=cast.sue,
        kind="faq",
        audience="both",
        title="Про закрытие счетов",
        body="См. [[iis-close-standard]] и [[iis-close-blocked-units]].",
    )
    article_publish(article=article, author=cast.sue)
    public = client.get(reverse("faq:article", args=[article.slug])).content.decode()
    assert 'href="/faq/iis-close-standard/"' in public
    assert "/faq/iis-close-blocked-units/" not in public  # internal: not linked publicly
    login(client, cast.alice)
    staff = client.get(reverse("knowledge:article", args=[article.slug])).content.decode()
    assert 'href="/knowledge/a/iis-close-blocked-units/"' in staff


@pytest.mark.parametrize("logged_in", [False, True])
def test_public_faq_never_shows_internal_articles(client, cast, kb, logged_in):
    if logged_in:
        login(client, cast.sue)  # even a supervisor sees the public page as the public does
    html = client.get(reverse("faq:search"), {"q": "закрыть иис заблокированы паи"}).content
    html = html.decode()
    assert "iis-close-blocked-units" not in html
    assert "iis-close-standard" in html
    assert client.get(reverse("faq:article", args=["iis-close-blocked-units"])).status_code == 404
    assert client.get(reverse("faq:article", args=["iis-close-standard"])).status_code == 200
    assert client.get(reverse("faq:home"), {"q": "иис"}).status_code == 200


def test_public_faq_hides_drafts_and_archived(client, cast):
    draft = article_create(author=cast.sue, kind="faq", audience="client", title="Черновик")
    assert client.get(reverse("faq:article", args=[draft.slug])).status_code == 404
    ArticleVersion.objects.filter(article=draft).update(is_published=True)
    assert client.get(reverse("faq:article", args=[draft.slug])).status_code == 404
