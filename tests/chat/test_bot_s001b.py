"""Story S001b: a client in the chat widget describes unknown card charges in her own words;
the bot must point at the unknown-charges FAQ (not the lost-card or captured-card ones).

Runs the full hybrid ranking (lexical + sentence embeddings) on the demo's knowledge base.
"""

from otklik.chat import bot
from otklik.chat.services import conversation_start

QUESTION = "у меня списывают деньги с карты непонятно кто"


def test_s001b_question_reaches_the_unknown_charges_faq(kb):
    conversation, _ = conversation_start()
    decision = bot.decide(conversation, QUESTION)
    assert not decision.hands_off
    assert decision.candidates[0]["slug"] == "unknown-card-charges"
