"""The bot's thresholds read the hybrid search's probability (issue 11): out-of-scope
questions get no confident answer, and a weak match is never answered outright."""

import pytest
from django.test import override_settings

from otklik.chat import bot
from otklik.chat.models import BotDecisionKind
from otklik.chat.services import conversation_start

OUT_OF_SCOPE = [
    "какая погода будет завтра",
    "посоветуйте хороший фильм на вечер",
    "как приготовить борщ",
    "сколько калорий в банане",
    "what is the weather in london",
]


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_out_of_scope_question_gets_no_confident_answer(kb, text):
    conversation, _ = conversation_start()
    assert bot.decide(conversation, text).kind != BotDecisionKind.ANSWER


def test_close_question_is_answered_outright(kb):
    conversation, _ = conversation_start()
    decision = bot.decide(conversation, "банкомат не вернул карту что делать")
    assert decision.kind == BotDecisionKind.ANSWER
    assert decision.candidates[0]["slug"] == "card-captured-atm"


@override_settings(OTKLIK_CHAT_BOT_ANSWER_SCORE=0.999)
def test_below_the_answer_threshold_the_bot_only_offers_choices(kb):
    conversation, _ = conversation_start()
    decision = bot.decide(conversation, "банкомат не вернул карту что делать")
    assert decision.kind == BotDecisionKind.ALTERNATIVES
    assert "below the answer threshold" in decision.reason
