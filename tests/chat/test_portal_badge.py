"""Defect 11: one web chat does not light up «Мои обращения 10» in the portal.

The bot's and the operator's replies are mirrored to the chat's case; the client read them in
the chat, so they are not new answers in the portal. An answer given in the portal is.
"""

from otklik.chat import services
from otklik.chat.models import Conversation
from otklik.portal.selectors import portal_case_messages, portal_unread_total
from otklik.portal.services import portal_answer_post
from tests.factories import ClientFactory

CHARGE = "С карты списали деньги, а я ничего не покупал"


def test_a_chat_leaves_the_badge_at_zero_and_a_portal_answer_counts_one(cast, kb, accepting):
    person = ClientFactory()
    conversation, _token = services.conversation_start(client=person)
    services.visitor_post(conversation=conversation, body=CHARGE)
    services.visitor_post(conversation=conversation, body="позовите оператора")
    conversation = Conversation.objects.get(pk=conversation.pk)
    operator = conversation.operator  # routed to an accepting operator
    assert operator is not None
    for text in ("Здравствуйте!", "Проверяю списание", "Деньги вернутся за 3 дня"):
        services.staff_post(actor=operator, conversation=conversation, body=text)
    case = Conversation.objects.get(pk=conversation.pk).case
    assert (
        case.messages.filter(author_kind__in=("staff", "system"), visibility="public").count() > 3
    )
    assert portal_unread_total(client=person) == 0
    assert not any(m.unread for m in portal_case_messages(client=person, case=case))

    portal_answer_post(actor=operator, case=case, body="Деньги вернулись на карту.")
    assert portal_unread_total(client=person) == 1
