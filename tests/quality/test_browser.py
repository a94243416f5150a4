"""The issue's "done when", in a real browser.

1. An operator proposes from a case; a colleague adds their case from the suggestion; an
   analyst accepts and later marks it implemented; the chart shows both periods.
2. A mentor scores a chat on a scorecard with a critical criterion; the operator acknowledges.
3. A case with a card, a passport and a phone becomes a library story in which none appears,
   neither on the rendered page nor in the stored copy.
"""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from otklik.cases.models import AuthorKind, MessageVisibility
from otklik.cases.services import message_add
from otklik.clients.services import client_create
from otklik.library.models import Story, StoryStatus
from otklik.proposals.models import Proposal, ProposalStatus
from otklik.quality.models import Evaluation, EvaluationStatus
from otklik.quality.services import scorecard_create
from tests.factories import TeamFactory, TopicFactory, UserFactory, make_case
from tests.quality.conftest import CHAT_CARD, make_chat

CARD = "4276 3800 1234 5679"
PASSPORT = "45 01 123456"
PHONE = "+7 916 555-12-34"


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


@contextmanager
def _signed_in(browser, url: str, username: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "pass-12345")
        page.click(".login button[type=submit]")
        page.wait_for_url(f"{url}/")
        yield page
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_proposal_from_a_case_to_its_measured_effect(live_server, browser, artifacts_dir):
    team = TeamFactory(name="Вторая линия")
    UserFactory(username="irina", first_name="Ирина", role="operator", team=team)
    UserFactory(username="pavel", first_name="Павел", role="operator", team=team)
    analyst = UserFactory(username="anna", first_name="Анна", last_name="Аналитик", role="operator")
    analyst.user_permissions.add(Permission.objects.get(codename="review_proposal"))
    from otklik.accounts.models import User

    irina, pavel = User.objects.get(username="irina"), User.objects.get(username="pavel")
    topic = TopicFactory(name="Доставка карты: смена адреса")
    now = timezone.now()
    # Six weeks of calls about the address before, fewer after (the window helps).
    for days in range(42, 14, -2):
        make_case(actor=irina, topic=topic, subject="Смена адреса", now=now - timedelta(days=days))
    for days in (10, 3):
        make_case(actor=irina, topic=topic, subject="Смена адреса", now=now - timedelta(days=days))
    case_1 = make_case(actor=irina, topic=topic, subject="Курьер выехал, адрес неверный")
    case_2 = make_case(actor=pavel, topic=topic, subject="Клиент ошибся в адресе доставки")
    url = live_server.url

    with _signed_in(browser, url, "irina") as page:
        page.goto(f"{url}/cases/{case_1.pk}/")
        page.click("#case-propose")
        page.wait_for_url(re.compile(r"/proposals/new\?case="))
        assert page.locator("#id_topic").input_value() == str(topic.pk)
        page.fill("#id_title", "Окно в два часа для исправления адреса доставки")
        page.fill("#id_proposal", "Дать клиенту два часа после заказа, чтобы исправить адрес")
        page.fill("#id_expected_effect", "Меньше повторных доставок и звонков")
        page.click("#proposal-submit")
        page.wait_for_url(re.compile(r"/proposals/\d+/$"))
    proposal = Proposal.objects.get()
    assert list(proposal.links.values_list("case_id", flat=True)) == [case_1.pk]

    with _signed_in(browser, url, "pavel") as page:
        page.goto(f"{url}/cases/{case_2.pk}/")
        page.click("#case-propose")
        page.fill("#id_title", "Исправить адрес доставки после заказа")
        suggestion = page.locator(f".similar-item[data-proposal='{proposal.pk}']")
        suggestion.wait_for()
        page.screenshot(path=str(artifacts_dir / "quality_1_suggestion.png"), full_page=True)
        suggestion.locator(".btn-plus-one").click()
        page.wait_for_url(re.compile(rf"/proposals/{proposal.pk}/$"))
        assert page.locator("#proposal-links .linked-case").count() == 2
    assert Proposal.objects.count() == 1  # no duplicate was made
    assert proposal.links.filter(case=case_2, user=pavel).exists()

    with _signed_in(browser, url, "anna") as page:
        page.goto(f"{url}/proposals/{proposal.pk}/")
        for step in ("under_review", "accepted", "in_progress"):
            page.click(f"#proposal-workflow button[data-to='{step}']")
            page.wait_for_url(re.compile(rf"/proposals/{proposal.pk}/$"))
            page.wait_for_load_state()
        proposal.refresh_from_db()
        assert proposal.status == ProposalStatus.IN_PROGRESS
        implemented = (timezone.localdate() - timedelta(days=14)).isoformat()
        page.fill(".transition-implemented input[name=implemented_on]", implemented)
        page.click("#proposal-workflow button[data-to='implemented']")
        page.locator("#implemented-on").wait_for()
        chart = page.locator("#proposal-volume svg")
        assert chart.locator("rect[data-period='before']").count() >= 4
        assert chart.locator("rect[data-period='after']").count() >= 2
        assert chart.locator("line.split").count() == 1
        assert page.locator("#effect-figures").is_visible()
        page.screenshot(path=str(artifacts_dir / "quality_2_proposal_chart.png"), full_page=True)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.IMPLEMENTED
    assert proposal.events.filter(kind="status").count() == 4


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_mentor_scores_a_chat_and_the_operator_acknowledges(live_server, browser, artifacts_dir):
    team = TeamFactory(name="Чат банка")
    UserFactory(username="irina", first_name="Ирина", role="operator", team=team)
    UserFactory(username="olga", first_name="Ольга", role="senior_operator", team=team)
    from otklik.accounts.models import User

    irina = User.objects.get(username="irina")
    card = scorecard_create(name="Чат: стандарт", criteria=CHAT_CARD)
    chat = make_chat(
        operator=irina,
        lines=[
            ("visitor", "Здравствуйте, не проходит оплата за границей"),
            ("operator", "Добрый день! Назовите, пожалуйста, кодовое слово"),
        ],
    )
    url = live_server.url
    with _signed_in(browser, url, "olga") as page:
        page.goto(f"{url}/quality/evaluate?kind=chat&target={chat.pk}")
        assert "оплата за границей" in page.locator("#transcript").inner_text()
        for criterion in card.criteria.all():
            result = "failed" if criterion.critical else "met"
            page.check(f"input[name='c{criterion.pk}'][value='{result}']")
        page.fill("#eval-comment", "Вежливо, но данные назвали до проверки личности")
        page.screenshot(path=str(artifacts_dir / "quality_3_scorecard.png"), full_page=True)
        page.click("#evaluation-submit")
        page.wait_for_url(re.compile(r"/quality/evaluations/\d+/$"))
        assert page.locator("#evaluation-score").inner_text().strip() in ("0.0", "0,0")
        assert page.locator("#critical-failed").is_visible()
    evaluation = Evaluation.objects.get()
    with _signed_in(browser, url, "irina") as page:
        page.goto(f"{url}/quality/")
        page.locator("#quality-pending a").first.click()
        page.wait_for_url(re.compile(rf"/quality/evaluations/{evaluation.pk}/$"))
        assert "до проверки личности" in page.locator("#evaluation-comment").inner_text()
        page.click("#ack-evaluation")
        page.locator("#evaluation-ack").wait_for(state="detached")
        page.screenshot(path=str(artifacts_dir / "quality_4_acknowledged.png"), full_page=True)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.ACKNOWLEDGED and evaluation.score == 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_case_becomes_a_library_story_without_its_personal_data(
    live_server, browser, artifacts_dir
):
    team = TeamFactory(name="Вторая линия")
    UserFactory(username="irina", first_name="Ирина", role="operator", team=team)
    UserFactory(username="sue", first_name="Светлана", role="supervisor")
    from otklik.accounts.models import User

    irina = User.objects.get(username="irina")
    client = client_create(
        last_name="Орлова", first_name="Марина", patronymic="Викторовна", phones=[PHONE]
    )
    case = make_case(actor=irina, client=client, subject="Карта уехала не по тому адресу")
    message_add(
        actor=None,
        case=case,
        author_kind=AuthorKind.CLIENT,
        visibility=MessageVisibility.PUBLIC,
        body=f"Карта {CARD}, паспорт {PASSPORT}, перезвоните на {PHONE}",
    )
    message_add(
        actor=irina,
        case=case,
        visibility=MessageVisibility.PUBLIC,
        body="Марина Викторовна, курьер привезёт карту завтра до 12:00.",
    )
    url = live_server.url
    with _signed_in(browser, url, "sue") as page:
        page.goto(f"{url}/cases/{case.pk}/")
        page.click("#case-to-library")
        page.fill("#story-note", "Быстро исправили адрес, клиент доволен")
        page.click("#story-submit")
        page.wait_for_url(re.compile(r"/library/\d+/$"))
        story = Story.objects.get()
        html = page.content()
        for secret in (CARD, PASSPORT, PHONE, "Орлов", "Викторовн"):
            assert secret not in html
        for secret in (CARD, PASSPORT, PHONE):
            assert _digits(secret) not in _digits(page.locator("#story-body").inner_text())
        page.fill("#story-fragments", "до 12:00")
        page.click("#story-redact-btn")
        page.locator("#story-body", has_text="[скрыто]").wait_for()
        page.click("#story-publish")
        page.locator("#story-assign").wait_for()
        page.select_option("#story-assign select[name=team]", label="Вторая линия")
        page.click("#story-assign-btn")
        page.locator("#story-progress").wait_for()
        page.screenshot(path=str(artifacts_dir / "quality_5_story.png"), full_page=True)
    with _signed_in(browser, url, "irina") as page:
        page.goto(f"{url}/library/")
        page.locator("#stories-assigned a").first.click()
        page.wait_for_url(re.compile(rf"/library/{story.pk}/$"))
        html = page.content()
        for secret in (CARD, PASSPORT, PHONE, "Орлов"):
            assert secret not in html
        page.click("#story-ack")
        page.locator("#story-acked").wait_for()
    story.refresh_from_db()
    assert story.status == StoryStatus.PUBLISHED
    stored = " ".join([story.title, story.note, story.body, story.terms])
    for secret in (CARD, PASSPORT, PHONE):
        assert secret not in stored and _digits(secret) not in _digits(stored)
    assert "до 12:00" not in story.body
    assert story.assignments.get(user=irina).acknowledged_at is not None
