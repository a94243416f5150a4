"""Chat services: numbering and dedupe, the bot's hand-off rules, routing, the case mirror."""

import pytest
from django.test import override_settings

from otklik.cases.models import AuthorKind, Message
from otklik.chat import services
from otklik.chat.models import (
    BotDecision,
    BotDecisionKind,
    ChatMessage,
    ChatTopic,
    Conversation,
    ConversationStatus,
    OperatorChatSettings,
    SenderKind,
)
from otklik.chat.selectors import chat_metrics, conversation_for_visitor, unanswered_queries
from otklik.common.errors import ConflictError, ServiceError
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

CHARGE = "С карты списали деньги, не понимаю кто"


def _start(**kwargs) -> Conversation:
    conversation, _token = services.conversation_start(**kwargs)
    return conversation


def _seqs(conversation) -> list[int]:
    return list(conversation.messages.order_by("seq").values_list("seq", flat=True))


def test_token_is_stored_hashed_and_finds_only_its_chat(db):
    conversation, token = services.conversation_start()
    assert token not in conversation.visitor_token_hash
    assert conversation_for_visitor(conversation_id=conversation.pk, token=token) == conversation
    assert conversation_for_visitor(conversation_id=conversation.pk, token=token + "x") is None
    other, _ = services.conversation_start()
    assert conversation_for_visitor(conversation_id=other.pk, token=token) is None


def test_seq_is_contiguous_and_a_resend_is_stored_once(kb):
    conversation = _start()
    first, created = services.visitor_post(
        conversation=conversation, body="позовите оператора", client_msg_id="c-1"
    )
    assert created
    again, created_again = services.visitor_post(
        conversation=conversation, body="позовите оператора", client_msg_id="c-1"
    )
    assert not created_again and again.pk == first.pk and again.seq == first.seq
    assert ChatMessage.objects.filter(conversation=conversation, client_msg_id="c-1").count() == 1
    seqs = _seqs(conversation)
    assert seqs == list(range(1, len(seqs) + 1))
    conversation.refresh_from_db()
    assert conversation.last_seq == seqs[-1]


def test_the_same_client_id_from_the_other_side_is_a_different_message(cast, kb, accepting):
    conversation = _start()
    services.visitor_post(conversation=conversation, body="оператор", client_msg_id="same")
    conversation.refresh_from_db()
    operator = conversation.operator
    _, created = services.staff_post(
        actor=operator, conversation=conversation, body="Здравствуйте", client_msg_id="same"
    )
    assert created


def test_bot_answers_a_card_charge_from_the_client_faq(kb):
    conversation = _start()
    services.visitor_post(conversation=conversation, body=CHARGE, client_msg_id="q1")
    answer = conversation.messages.filter(sender_kind=SenderKind.BOT).order_by("-seq").first()
    assert answer.payload["article"]["slug"] == "unknown-card-charges"
    assert "helpful" in answer.payload["buttons"]
    decision = BotDecision.objects.get(conversation=conversation)
    assert decision.query == CHARGE
    assert decision.candidates[0]["slug"] == "unknown-card-charges"
    assert decision.candidates[0]["score"] > 0 and decision.candidates[0]["explain"]
    assert decision.decision in (BotDecisionKind.ANSWER, BotDecisionKind.ALTERNATIVES)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.BOT


@pytest.mark.parametrize(
    "text", ["позовите оператора", "Можно живого человека?", "соедините со специалистом"]
)
def test_asking_for_a_person_hands_off(kb, text):
    conversation = _start()
    services.visitor_post(conversation=conversation, body=text)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.QUEUED
    assert conversation.handoff_reason == BotDecisionKind.HANDOFF_REQUEST
    assert conversation.case is not None  # opened at once, with the transcript


def test_low_confidence_hands_off_and_is_listed_for_editors(kb):
    conversation = _start()
    services.visitor_post(conversation=conversation, body="хочу узнать погоду в москве")
    conversation.refresh_from_db()
    assert conversation.handoff_reason == BotDecisionKind.HANDOFF_LOW_CONFIDENCE
    decision = BotDecision.objects.get(conversation=conversation)
    assert "<" in decision.reason
    assert "хочу узнать погоду в москве" in [q["query"] for q in unanswered_queries()]


def test_two_unhelpful_answers_hand_off(kb):
    conversation = _start()
    for text in (CHARGE, "банкомат съел карту"):
        services.visitor_post(conversation=conversation, body=text)
        decision = BotDecision.objects.filter(conversation=conversation).first()
        services.bot_feedback(conversation=conversation, decision_id=decision.pk, helpful=False)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.QUEUED
    assert conversation.handoff_reason == BotDecisionKind.HANDOFF_UNHELPFUL


def test_human_only_topic_skips_the_bot(kb, security_topic):
    conversation = _start()
    services.visitor_post(conversation=conversation, body="Карта не работает за границей")
    conversation.refresh_from_db()
    assert conversation.handoff_reason == BotDecisionKind.HANDOFF_TOPIC
    assert conversation.chat_topic == security_topic
    assert not conversation.messages.filter(sender_kind=SenderKind.BOT, payload__has_key="article")


def test_handoff_opens_a_case_with_the_bot_transcript(kb):
    client = ClientFactory()
    conversation = _start(client=client)
    services.visitor_post(conversation=conversation, body=CHARGE)
    services.visitor_post(conversation=conversation, body="позовите оператора")
    conversation.refresh_from_db()
    case = conversation.case
    assert case.client == client and case.channel == "chat" and case.subject == CHARGE
    bodies = list(Message.objects.filter(case=case).values_list("author_kind", "body"))
    assert (AuthorKind.CLIENT, CHARGE) in bodies
    assert any(kind == AuthorKind.SYSTEM and "Бот" in body for kind, body in bodies)
    assert conversation.interaction.channel == "chat"


def test_anonymous_visitor_gets_a_guest_card_that_moves_to_the_real_client(cast, kb, accepting):
    conversation = _start()
    services.visitor_post(conversation=conversation, body="оператор")
    conversation.refresh_from_db()
    guest = conversation.client
    assert conversation.client_is_guest and guest is not None
    real = ClientFactory()
    services.conversation_identify(
        actor=conversation.operator, conversation=conversation, client=real
    )
    conversation.case.refresh_from_db()
    assert conversation.case.client == real
    assert not type(guest).objects.filter(pk=guest.pk).exists()


def test_routing_respects_capacity(cast, kb, accepting, django_capture_on_commit_callbacks):
    chats = [_start() for _ in range(5)]
    for conversation in chats:
        services.visitor_post(conversation=conversation, body="оператор")
    loads = {
        user.username: Conversation.objects.filter(
            operator=user, status=ConversationStatus.ASSIGNED
        ).count()
        for user in (cast.alice, cast.bob)
    }
    assert loads == {"alice": 2, "bob": 2}
    assert Conversation.objects.filter(status=ConversationStatus.QUEUED).count() == 1
    # Closing one frees a place: the waiting chat goes to that operator.
    busy = Conversation.objects.filter(operator=cast.alice).first()
    with django_capture_on_commit_callbacks(execute=True):
        services.chat_close(conversation=busy, actor=cast.alice)
    assert Conversation.objects.filter(status=ConversationStatus.QUEUED).count() == 0


def test_routing_prefers_skilled_operators(cast, kb, accepting):
    topic = ChatTopic.objects.create(name="Иностранные платежи", keywords="swift")
    OperatorChatSettings.objects.get(user=cast.bob).topics.add(topic)
    conversation = _start()
    services.visitor_post(conversation=conversation, body="swift перевод, нужен оператор")
    conversation.refresh_from_db()
    assert conversation.chat_topic == topic
    assert conversation.operator == cast.bob


def test_a_manual_take_respects_capacity_and_cannot_double_take(cast, kb):
    OperatorChatSettings.objects.create(user=cast.alice, capacity=1)
    first, second = _start(), _start()
    for conversation in (first, second):
        services.visitor_post(conversation=conversation, body="оператор")
        conversation.refresh_from_db()
    services.chat_take(actor=cast.alice, conversation=first)
    with pytest.raises(ServiceError):
        services.chat_take(actor=cast.alice, conversation=second)
    first.refresh_from_db()
    with pytest.raises(ConflictError):
        services.chat_take(actor=cast.bob, conversation=first)


def test_transfer_with_note_and_specialist_invitation(cast, kb, accepting):
    conversation = _start(client=ClientFactory())
    services.visitor_post(conversation=conversation, body="оператор")
    conversation.refresh_from_db()
    first = conversation.operator
    other = cast.bob if first == cast.alice else cast.alice
    services.chat_transfer(
        actor=first, conversation=conversation, to_user=other, note="Клиент за границей"
    )
    conversation.refresh_from_db()
    assert conversation.operator == other
    note = conversation.messages.filter(internal=True, body__contains="Клиент за границей")
    assert note.exists()

    services.chat_invite(
        actor=other, conversation=conversation, department=cast.security, note="Не проходит звонок"
    )
    services.specialist_join(actor=cast.sam, conversation=conversation)
    message, _ = services.staff_post(
        actor=cast.sam, conversation=conversation, body="Служба безопасности на связи"
    )
    assert message.sender_kind == SenderKind.SPECIALIST
    with pytest.raises(ServiceError):
        services.specialist_join(actor=cast.tom, conversation=conversation)  # not invited
    # The specialist also sees the case through the handoff.
    from otklik.cases.selectors import case_get_for_user

    assert case_get_for_user(user=cast.sam, case_id=conversation.case_id)


def test_close_rate_and_service_level(cast, kb, accepting):
    conversation = _start()
    services.visitor_post(conversation=conversation, body="оператор")
    conversation.refresh_from_db()
    services.staff_post(actor=conversation.operator, conversation=conversation, body="Слушаю вас")
    with pytest.raises(ServiceError):
        services.chat_rate(conversation=conversation, score=5)
    services.chat_close(conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.interaction.ended_at is not None
    services.chat_rate(conversation=conversation, score=5, comment="Спасибо")
    with pytest.raises(ConflictError):
        services.chat_rate(conversation=conversation, score=1)
    with pytest.raises(ConflictError):
        services.visitor_post(conversation=conversation, body="ещё вопрос")
    metrics = chat_metrics()
    assert metrics.chats == 1 and metrics.answered == 1
    assert metrics.service_level == 1.0 and metrics.csi == 5
    assert metrics.aht_seconds is not None
    assert Message.objects.filter(case=conversation.case, body__contains="CSI").exists()


def test_staff_cannot_write_before_taking(cast, kb):
    conversation = _start()
    services.visitor_post(conversation=conversation, body="оператор")
    with pytest.raises(ServiceError):
        services.staff_post(actor=cast.alice, conversation=conversation, body="Я тут")


@override_settings(OTKLIK_CHAT_BOT_MIN_SCORE=1000.0)
def test_threshold_is_configurable(kb):
    conversation = _start()
    services.visitor_post(conversation=conversation, body=CHARGE)
    conversation.refresh_from_db()
    assert conversation.handoff_reason == BotDecisionKind.HANDOFF_LOW_CONFIDENCE


def test_demo_chat_is_idempotent(cast, kb):
    from otklik.chat.demo import load_demo_chat
    from otklik.clients.services import client_create

    client_create(last_name="Лебедева", first_name="Наталья", phones=["+7 921 635-82-17"])
    first = load_demo_chat()
    again = load_demo_chat()
    assert first == again and first.status == ConversationStatus.QUEUED
    assert first.handoff_reason == BotDecisionKind.HANDOFF_TOPIC
    assert OperatorChatSettings.objects.filter(user=cast.alice).exists()


def test_bot_decisions_are_explained_in_the_readers_language(kb, security_topic):
    """The log line stays as written; operators and editors read a translated reason built
    from the stored decision and scores."""
    from django.utils import translation

    asked = _start()
    services.visitor_post(conversation=asked, body="позовите оператора")
    weather = _start()
    services.visitor_post(conversation=weather, body="хочу узнать погоду в москве")
    abroad = _start()
    services.visitor_post(conversation=abroad, body="Карта не работает за границей")
    charge = _start()
    services.visitor_post(conversation=charge, body=CHARGE)
    decision = {c.pk: BotDecision.objects.get(conversation=c) for c in (asked, weather, abroad)}
    answered = BotDecision.objects.get(conversation=charge)
    top = f"{answered.candidates[0]['score']:.2f}"

    with translation.override("ru"):
        assert decision[asked.pk].explanation() == "Клиент попросил соединить с человеком."
        assert "ниже порога уверенности" in decision[weather.pk].explanation()
        assert f"«{security_topic.name}»" in decision[abroad.pk].explanation()
        assert top in answered.explanation() and "Лучшее совпадение" in answered.explanation()
    with translation.override("en"):
        assert decision[asked.pk].explanation() == "The client asked for a person."
        assert answered.explanation().startswith(f"Best match {top}")
    assert decision[asked.pk].reason == "the client asked for a person"  # the log is kept


def test_message_times_are_in_the_sites_time_zone(cast, kb, settings):
    """The transcript shows 10:24 when the rest of the app (Moscow) does, never UTC 07:24."""
    from datetime import UTC, datetime

    from otklik.chat.models import ChatMessage
    from otklik.chat.selectors import message_json

    settings.TIME_ZONE = "Europe/Moscow"
    message = ChatMessage(pk=1, seq=1, sender_kind="client", sender_side="client", body="x")
    message.created_at = datetime(2026, 12, 3, 7, 24, tzinfo=UTC)
    data = message_json(message)
    assert data["time"] == "10:24"
    assert data["created_at"] == "2026-12-03T10:24:00+03:00"
