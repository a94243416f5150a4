"""End to end on a real daphne: an anonymous visitor on a bank's page asks about an unknown
card charge, the bot answers from the FAQ, the visitor asks for a person, the operator takes
the chat with its transcript and answers, the visitor closes the chat and rates it 5."""

import json

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from otklik.chat.models import OperatorChatSettings
from tests.chat.server import Server, database_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "С карты списали деньги, не понимаю кто"


def test_full_chat_from_the_bot_to_an_operator_and_a_rating(
    browser, cast, kb, tmp_path, artifacts_dir
):
    OperatorChatSettings.objects.create(user=cast.alice, capacity=3, accepting=False)
    # The server process uses the production hasher, not the tests' fast one.
    hasher = PBKDF2PasswordHasher()
    cast.alice.password = hasher.encode("pass-12345", hasher.salt(), iterations=1000)
    cast.alice.save(update_fields=["password"])
    server = Server(database_url(tmp_path))
    server.start()
    try:
        # The visitor, on a phone-sized screen.
        visitor_ctx = browser.new_context(
            viewport={"width": 390, "height": 800}, locale="ru-RU", has_touch=True
        )
        visitor = visitor_ctx.new_page()
        visitor.set_default_timeout(15_000)
        visitor.goto(server.url + "/chat/demo/")
        visitor.locator(".launcher").click()
        box = visitor.locator(".composer textarea")
        box.fill(QUESTION)
        box.press("Enter")
        answer = visitor.locator(".msg.bot").filter(has_text="списания с карты")
        try:
            answer.first.wait_for()
        except Exception:
            visitor.screenshot(path=str(artifacts_dir / "chat_visitor_failure.png"))
            raise
        assert visitor.locator(".msg.bot .buttons button").count() >= 2  # «Помогло?»
        box.fill("позовите оператора")
        box.press("Enter")
        visitor.locator(".msg.system").filter(has_text="оператор").first.wait_for()

        # The operator, in another browser context.
        operator_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
        operator = operator_ctx.new_page()
        operator.set_default_timeout(15_000)
        operator.goto(server.url + "/login/?next=/chat/")
        operator.fill("#id_username", "alice")
        operator.fill("#id_password", "pass-12345")
        operator.locator("main button.btn-primary[type=submit]").click()
        row = operator.locator("tr[data-chat]").filter(has_text="С карты списали деньги")
        row.wait_for()
        row.locator("button[type=submit]").click()
        log = operator.locator("#chat-log")
        log.filter(has_text=QUESTION).wait_for()
        assert log.locator(".cmsg-bot").count() >= 2  # the bot transcript is there
        operator.wait_for_function("document.querySelector('#chat-reply') !== null")
        reply = operator.locator("#chat-reply textarea")
        reply.fill("Здравствуйте! Меня зовут Алиса, сейчас проверю списание.")
        reply.press("Enter")
        visitor.locator(".msg.staff").filter(has_text="сейчас проверю списание").wait_for()
        log.locator(".cmsg-operator:not(.cmsg-pending)").first.wait_for()
        operator.screenshot(path=str(artifacts_dir / "chat_operator.png"), full_page=True)

        # The visitor ends the chat and rates it.
        visitor.locator(".end").click()
        visitor.locator(".rate.show").wait_for()
        visitor.locator(".stars button").nth(4).click()
        visitor.locator(".rate textarea").fill("Быстро и по делу")
        visitor.locator(".rate-send").click()
        visitor.locator(".rate").filter(has_text="Спасибо").wait_for()
        visitor.screenshot(path=str(artifacts_dir / "chat_visitor.png"))
        stored = json.loads(
            visitor.evaluate(
                "() => Object.entries(localStorage).find(([k]) => k.startsWith('otklik-chat'))[1]"
            )
        )
        state = server.http("GET", f"/chat/api/{stored['id']}/poll/", stored["token"])["state"]
        assert state["status"] == "closed" and state["rated"] is True
        visitor_ctx.close()
        operator_ctx.close()
    finally:
        server.kill()
