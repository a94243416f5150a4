"""In a real browser: a client of an absent manager is served by her deputy, then by her.

Марина Белова is away and Евгений Ракитин is her deputy. Her client Алла Зуева asks for a
person in the chat: the chat goes to Евгений (his «Мои чаты»), and the portal tells her
who serves her now and when Марина is back. The absence ends: the portal names Марина
again and the next chat goes to her.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.chat import services as chat
from otklik.chat.models import Conversation, OperatorChatSettings
from otklik.clients.models import Segment
from otklik.clients.services import client_create
from otklik.notifications.models import Outbox
from otklik.relationship.catalogue import desk_rules_ensure
from otklik.relationship.models import Absence, Relationship
from tests.codes import sealed_code
from tests.factories import UserFactory
from tests.portal.test_browser_story001 import off_loop


def _chat_to_a_person(client) -> Conversation:
    """The client writes in the portal chat and asks for a person (server side)."""

    def ask():
        conversation, _token = chat.conversation_start(client=client)
        chat.handoff(conversation=conversation, reason="client asked")
        return conversation.pk

    return Conversation.objects.select_related("operator").get(pk=off_loop(ask))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_deputy_serves_while_she_is_away_and_she_is_back_after(
    live_server, browser, artifacts_dir
):
    today = timezone.localdate()
    levels = desk_rules_ensure()
    evgeny = UserFactory(
        username="evgeny", first_name="Евгений", last_name="Ракитин", role=Role.PERSONAL_MANAGER
    )
    marina = UserFactory(
        username="marina", first_name="Марина", last_name="Белова", role=Role.PERSONAL_MANAGER
    )
    for user in (evgeny, marina):
        OperatorChatSettings.objects.create(user=user, capacity=3, accepting=True)
    absence = Absence.objects.create(
        manager=marina,
        deputy=evgeny,
        starts_on=today - timedelta(days=2),
        ends_on=today + timedelta(days=7),
    )
    alla = client_create(
        last_name="Зуева", first_name="Алла", patronymic="Петровна",
        segment=Segment.PREMIUM, personal_manager=marina, phones=["+7 916 204-55-18"],
    )  # fmt: skip
    Relationship.objects.create(client=alla, package_level=levels["platinum"])

    conversation = _chat_to_a_person(alla)
    assert conversation.operator == evgeny

    # The deputy sees her client's chat among his own.
    staff = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = staff.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{live_server.url}/login/?next=/chat/")
    page.fill("#id_username", "evgeny")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(re.compile(r"/chat/$"))
    mine = page.locator(".chat-list li", has_text="Зуева Алла")
    mine.wait_for()
    page.screenshot(path=str(artifacts_dir / "deputy-chats.png"), full_page=True)
    staff.close()

    # The client, on a phone: the portal names the deputy and when her manager is back.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ru-RU", is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{live_server.url}/portal/")
    page.wait_for_url(re.compile(r"/portal/login/$"))
    page.fill("#identifier", "8 916 204-55-18")
    page.click(".p-login button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/login/code/$"))
    sms = Outbox.objects.filter(key__startswith="portal-login-code:").latest("id")
    page.fill("#code", sealed_code(sms))
    page.click(".p-login button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/cases/$"))
    line = page.locator("#serving")
    text = line.inner_text()
    assert "Сейчас вас обслуживает Евгений Ракитин." in text
    back = absence.ends_on + timedelta(days=1)
    assert re.search(rf"Марина Белова вернётся {back.day} \w+", text)
    assert line.locator("strong").inner_text() == "Евгений Ракитин"
    page.screenshot(path=str(artifacts_dir / "portal-served-by-deputy.png"), full_page=True)

    # The absence is over (her supervisor ends it yesterday): everything returns to her.
    off_loop(chat.chat_close, actor=evgeny, conversation=conversation)
    Absence.objects.filter(pk=absence.pk).update(ends_on=today - timedelta(days=1))
    page.reload()
    text = page.locator("#serving").inner_text()
    assert "Ваш персональный менеджер: Марина Белова." in text
    assert "Евгений" not in text
    page.screenshot(path=str(artifacts_dir / "portal-manager-back.png"), full_page=True)
    phone.close()

    assert _chat_to_a_person(alla).operator == marina
