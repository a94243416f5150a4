import secrets
from datetime import datetime

import pytest
from django.utils import timezone

from otklik.chat.models import ChatMessage, ChatRating, Conversation, ConversationStatus
from otklik.quality.services import scorecard_create
from tests.factories import ClientFactory

CHAT_CARD = [
    ("Приветствие и обращение", "Поздоровался и представился", 1, False),
    ("Приветствие и обращение", "Обращался по имени и отчеству", 1, False),
    ("Диагностика", "Выяснил суть вопроса", 2, False),
    ("Решение", "Дал верное и полное решение", 3, False),
    ("Эмпатия", "Проявил участие", 1, False),
    ("Соблюдение требований", "Не раскрыл данные без проверки личности", 2, True),
]


def make_chat(*, operator, team=None, lines=(), rating=None, now: datetime | None = None):
    """A finished chat of `operator` with the given (sender_kind, text) lines."""
    now = now or timezone.now()
    conv = Conversation.objects.create(
        visitor_token_hash=secrets.token_hex(32),
        client=ClientFactory(),
        status=ConversationStatus.CLOSED,
        team=team or operator.team,
        operator=operator,
        created_at=now,
        closed_at=now,
    )
    for seq, (kind, text) in enumerate(lines, start=1):
        ChatMessage.objects.create(
            conversation=conv,
            seq=seq,
            sender_kind=kind,
            sender_side="visitor" if kind == "visitor" else "staff",
            author=operator if kind == "operator" else None,
            body=text,
            created_at=now,
        )
    if rating is not None:
        ChatRating.objects.create(conversation=conv, score=rating, created_at=now)
    return conv


@pytest.fixture
def card(db):
    return scorecard_create(name="Чат: стандарт качества", criteria=CHAT_CARD)


@pytest.fixture
def chat(cast):
    return make_chat(
        operator=cast.alice,
        lines=[
            ("visitor", "Здравствуйте, карта заблокирована"),
            ("operator", "Добрый день! Меня зовут Алиса, помогу"),
        ],
    )


def all_met(card, **overrides):
    results = {c.pk: "met" for c in card.criteria.all()}
    for c in card.criteria.all():
        if c.text in overrides:
            results[c.pk] = overrides[c.text]
    return results
