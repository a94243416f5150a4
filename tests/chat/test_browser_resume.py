"""End to end on a real daphne: a client starts the portal chat on the phone, opens the portal
on the laptop and finds the same chat with its history; a reply from either device reaches the
other live (story 002: the client must not end with chats №1 and №4)."""

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from otklik.chat.models import Conversation
from otklik.portal.auth import SESSION_CLIENT
from tests.chat.server import Server, database_url
from tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _session_for(person) -> str:
    store = SessionStore()
    store[SESSION_CLIENT] = person.pk
    store.create()
    return store.session_key


def _device(browser, server, session_key, **viewport):
    context = browser.new_context(locale="ru-RU", **viewport)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(server.url + "/chat/portal/")
    return page


def test_portal_chat_resumes_on_the_clients_other_device(browser, tmp_path, artifacts_dir):
    person = ClientFactory(first_name="Мария")
    phone_key, laptop_key = _session_for(person), _session_for(person)
    server = Server(database_url(tmp_path))
    server.start()
    try:
        phone = _device(
            browser, server, phone_key, viewport={"width": 390, "height": 800}, has_touch=True
        )
        phone.locator(".msg.bot").first.wait_for()
        box = phone.locator(".composer textarea")
        box.fill("Не пришёл перевод из другого банка")
        box.press("Enter")
        phone.locator(".msg.visitor:not(.pending)").filter(has_text="Не пришёл перевод").wait_for()

        laptop = _device(browser, server, laptop_key, viewport={"width": 1280, "height": 800})
        history = laptop.locator(".msg.visitor").filter(has_text="Не пришёл перевод")
        try:
            history.wait_for()
        except Exception:
            laptop.screenshot(path=str(artifacts_dir / "chat_resume_failure.png"))
            raise
        laptop_box = laptop.locator(".composer textarea")
        laptop_box.fill("Пишу уже с компьютера")
        laptop_box.press("Enter")
        phone.locator(".msg.visitor").filter(has_text="Пишу уже с компьютера").wait_for()
        laptop.screenshot(path=str(artifacts_dir / "chat_resumed_laptop.png"))
        phone.screenshot(path=str(artifacts_dir / "chat_resumed_phone.png"))
    finally:
        server.kill()
    if server.database_url.startswith("postgres"):
        assert Conversation.objects.filter(client=person).count() == 1
