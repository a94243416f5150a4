"""Demo data for the chat: operators' chat settings, chat topics (one human-only), and a
waiting chat from the story-002 client abroad. Idempotent; called from the demo loader."""

from django.db import transaction

from otklik.accounts.models import Role, User
from otklik.chat import services
from otklik.chat.models import ChatTopic, Conversation, OperatorChatSettings
from otklik.clients.models import Client

TOPICS = [
    # name, keywords, human only
    ("Блокировка карты за границей", "за границ\nзаграниц\nзарубеж", True),
    ("Непонятные списания", "списал\nсписани\nсписыва", False),
    ("ИИС", "иис\nинвестиционн", False),
]
DEMO_ORIGIN = "demo"


@transaction.atomic
def load_demo_chat() -> Conversation | None:
    """Returns the story-002 waiting chat (created once), or None without that client."""
    topics = {}
    for name, keywords, human_only in TOPICS:
        topics[name], _ = ChatTopic.objects.get_or_create(
            name=name, defaults={"keywords": keywords, "human_only": human_only}
        )
    for user in User.objects.filter(is_active=True, role__in=[Role.OPERATOR, Role.SENIOR_OPERATOR]):
        OperatorChatSettings.objects.get_or_create(user=user, defaults={"capacity": 3})
    client = Client.objects.filter(last_name="Лебедева", first_name="Наталья").first()
    if client is None:
        return None
    existing = Conversation.objects.filter(client=client, origin=DEMO_ORIGIN).first()
    if existing is not None:
        return existing
    conversation, _token = services.conversation_start(client=client, origin=DEMO_ORIGIN)
    services.visitor_post(
        conversation=conversation,
        body="Не могу расплатиться картой за границей, обещали перезвонить, но звонка нет",
        client_msg_id="demo-002-1",
    )
    conversation.refresh_from_db()
    return conversation
