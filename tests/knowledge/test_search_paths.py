"""One ranking behind every search path (issue 11): the operator's screen, the public FAQ,
the REST API and the chat bot see the same order for a client-facing question; the API
completes a half-typed word like the screen; an English question gets an answer or a
hand-off from the bot, never silence. Runs the full hybrid ranking on the bundled articles."""

import pytest
from django.test import Client

from otklik.accounts.models import Role
from otklik.chat import bot
from otklik.chat.models import BotDecisionKind
from otklik.chat.services import conversation_start
from otklik.knowledge import public_views
from otklik.knowledge.selectors import search_articles
from tests.factories import UserFactory

QUESTION = "банкомат не отдал карточку"


def test_every_path_puts_the_same_article_first(kb):
    operator = UserFactory(role=Role.OPERATOR)
    screen = search_articles(user=operator, query=QUESTION, limit=10, as_you_type=True)
    faq = public_views._search(QUESTION)
    api = Client().get("/api/knowledge/search", {"q": QUESTION}).json()
    conversation, _ = conversation_start()
    decision = bot.decide(conversation, QUESTION)
    assert screen.hits[0].slug == "card-captured-atm"
    assert faq.hits[0].slug == "card-captured-atm"
    assert api["hits"][0]["slug"] == "card-captured-atm"
    assert decision.candidates[0]["slug"] == "card-captured-atm"


def test_api_completes_a_half_typed_word_like_the_screen(kb):
    data = Client().get("/api/knowledge/search", {"q": "закр"}).json()
    slugs = [h["slug"] for h in data["hits"]]
    assert slugs, "prefix search found nothing"
    assert any(s in slugs for s in ("iis-close-standard", "bank-account-close"))


@pytest.mark.parametrize(
    "text",
    [
        "the ATM swallowed my card, what should I do",
        "what is the weather in london tomorrow",
    ],
)
def test_english_question_gets_an_answer_choices_or_a_handoff(kb, text):
    conversation, _ = conversation_start()
    decision = bot.decide(conversation, text)
    assert decision.kind in {
        BotDecisionKind.ANSWER,
        BotDecisionKind.ALTERNATIVES,
        BotDecisionKind.HANDOFF_LOW_CONFIDENCE,
    }
    assert decision.reason


def test_english_question_in_scope_ranks_the_right_article_first(kb):
    conversation, _ = conversation_start()
    decision = bot.decide(conversation, "the ATM swallowed my card, what should I do")
    assert decision.candidates
    assert decision.candidates[0]["slug"] == "card-captured-atm"
