"""While a manager is away his named deputy serves his clients: their chats are routed to
the deputy, the portal names the deputy; the day after the absence it is the manager again.

The cast: Marina (personal manager) is away from TODAY-3 to TODAY+10 and Pavel is her
deputy; Alice and Bob are ordinary chat operators.
"""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from otklik.cases.models import Case
from otklik.chat import services
from otklik.chat.models import ChatMessage, Conversation, OperatorChatSettings, SenderKind
from otklik.clients.serving import away_staff, serving_now
from otklik.relationship.models import Absence
from tests.portal.conftest import login_as
from tests.relationship.conftest import TODAY, premium_client

pytestmark = pytest.mark.django_db

LAST_DAY = TODAY + timedelta(days=10)


def at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def accepts(*users, capacity=2):
    for user in users:
        OperatorChatSettings.objects.update_or_create(
            user=user, defaults={"capacity": capacity, "accepting": True}
        )


def chat_from(client, when) -> Conversation:
    """The client writes in the portal chat and asks for a person: the chat is queued."""
    conversation, _token = services.conversation_start(client=client)
    services.handoff(conversation=conversation, reason="client asked", now=when)
    return Conversation.objects.select_related("operator").get(pk=conversation.pk)


def joined_text(conversation) -> str:
    return (
        ChatMessage.objects.filter(conversation=conversation, sender_kind=SenderKind.SYSTEM)
        .order_by("-seq")
        .values_list("body", flat=True)
        .first()
    )


def test_a_clients_chat_goes_to_his_own_manager_when_he_is_in(cast, desk):
    accepts(cast.alice, cast.bob, desk.pavel)
    client = premium_client(desk.pavel, desk.platinum)

    conversation = chat_from(client, at(TODAY))

    assert conversation.operator == desk.pavel
    assert Case.objects.get(pk=conversation.case_id).owner == desk.pavel
    assert "замещ" not in joined_text(conversation)


def test_while_she_is_away_her_clients_chat_goes_to_the_deputy_and_after_to_her(cast, desk):
    # Everybody takes chats, Marina too (she forgot to switch it off): still not hers.
    accepts(cast.alice, cast.bob, desk.pavel, desk.marina)
    client = premium_client(desk.marina, desk.platinum)

    during = chat_from(client, at(TODAY))
    assert during.operator == desk.pavel
    assert Case.objects.get(pk=during.case_id).owner == desk.pavel
    text = joined_text(during)
    assert "Марина Белова" in text and desk.pavel.display_name in text
    assert "13 декабря" in text  # the absence's last day

    services.chat_close(actor=desk.pavel, conversation=during)
    on_the_last_day = chat_from(client, at(LAST_DAY, 17))
    assert on_the_last_day.operator == desk.pavel
    services.chat_close(actor=desk.pavel, conversation=on_the_last_day)

    back = chat_from(client, at(LAST_DAY + timedelta(days=1), 9))
    assert back.operator == desk.marina
    assert "замещ" not in joined_text(back) and "отсутств" not in joined_text(back)


def test_a_deputy_not_taking_chats_leaves_them_to_the_team_never_to_the_absent(cast, desk):
    accepts(cast.alice, desk.marina)  # Pavel is not accepting chats today
    client = premium_client(desk.marina, desk.platinum)

    conversation = chat_from(client, at(TODAY))

    assert conversation.operator == cast.alice
    assert desk.marina.pk in away_staff(day=TODAY)


def test_nobody_is_chosen_when_only_the_absent_manager_takes_chats(cast, desk):
    accepts(desk.marina)
    conversation = chat_from(premium_client(cast.pavel, desk.platinum), at(TODAY))

    assert conversation.operator is None  # waits for someone who is in
    accepts(cast.bob)
    assert services.route_waiting(now=at(TODAY)) == 1
    assert Conversation.objects.get(pk=conversation.pk).operator == cast.bob


def test_serving_now_follows_the_calendar_of_the_absence(cast, desk):
    client = premium_client(desk.marina, desk.platinum)

    before = serving_now(client=client, day=TODAY - timedelta(days=4))
    during = serving_now(client=client, day=LAST_DAY)
    after = serving_now(client=client, day=LAST_DAY + timedelta(days=1))

    assert (before.acting, before.standing_in) == (desk.marina, False)
    assert (during.acting, during.manager, during.until) == (desk.pavel, desk.marina, LAST_DAY)
    assert during.standing_in
    assert (after.acting, after.standing_in) == (desk.marina, False)
    assert serving_now(client=premium_client(None, None)) is None


def _portal_line(http, client) -> str:
    login_as(http, client)
    page = http.get("/portal/", follow=True)
    assert page.status_code == 200
    html = page.content.decode()
    start = html.index('id="serving"')
    return html[start : html.index("</p>", start)]


def test_the_portal_names_the_deputy_while_she_is_away_and_her_after(client, desk, monkeypatch):
    person = premium_client(desk.marina, desk.platinum)

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    line = _portal_line(client, person)
    assert f"Сейчас вас обслуживает <strong>{desk.pavel.display_name}</strong>" in line
    assert "Марина Белова вернётся 14 декабря" in line  # the day after her last day

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: LAST_DAY + timedelta(days=1))
    line = _portal_line(client, person)
    assert "Ваш персональный менеджер: <strong>Марина Белова</strong>" in line
    assert desk.pavel.display_name not in line


def test_the_portal_of_a_client_without_a_manager_names_nobody(client, desk):
    person = premium_client(None, None)
    login_as(client, person)
    html = client.get("/portal/", follow=True).content.decode()
    assert 'id="serving"' not in html


def test_a_deputy_who_was_deactivated_does_not_serve(cast, desk):
    desk.pavel.is_active = False
    desk.pavel.save(update_fields=["is_active"])
    client = premium_client(desk.marina, desk.platinum)

    assert serving_now(client=client, day=TODAY).acting == desk.marina
    assert Absence.objects.filter(manager=desk.marina).exists()
