"""Two members of staff on one case, in two browsers (and, with Redis, on two server
processes): each sees the other and their typing; the second one's reply over the first's
is held until confirmed; a closed tab leaves the list within 10 s; a draft survives a
reload."""

import sqlite3
import time
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from playwright.sync_api import expect

from otklik.cases.services import message_add
from tests.chat.server import Server, database_url
from tests.factories import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-12345"


def _count(url: str, sql: str, params: tuple) -> int:
    """Rows in the server's database (on SQLite the server works on a file copy)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute(sql, params).fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("?", "%s"), params)
        return cursor.fetchone()[0]


DRAFTS = "SELECT COUNT(*) FROM presence_draft WHERE user_id = ? AND case_id = ?"
DRAFT_TEXT = DRAFTS + " AND body = ?"
MESSAGES = "SELECT COUNT(*) FROM cases_message WHERE body = ? AND author_id = ?"


def _login(browser, server, username):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(server.url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main button.btn-primary[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


def test_two_operators_on_one_case(browser, cast, tmp_path, artifacts_dir):
    hasher = PBKDF2PasswordHasher()
    for user in (cast.alice, cast.olga):
        user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
        user.save(update_fields=["password"])
    case = make_case(actor=cast.alice, subject="Закрыть ИИС")
    message_add(actor=cast.alice, case=case, body="Здравствуйте, проверяем.", visibility="public")

    env = {"OTKLIK_PRESENCE_PREFIX": f"otklik-test-presence:{uuid.uuid4().hex[:8]}"}
    url = database_url(tmp_path)
    first = Server(url, extra_env=env)
    # With Redis, Olga is served by another process: presence must cross it.
    second = Server(url, extra_env=env) if settings.REDIS_URL else first
    first.start()
    if second is not first:
        second.start()
    try:
        alice_ctx, alice = _login(browser, first, "alice")
        olga_ctx, olga = _login(browser, second, "olga")
        case_path = f"/cases/{case.pk}/"
        alice.goto(first.url + case_path)
        olga.goto(second.url + case_path)

        # Each sees the other.
        alice.locator(f"#presence-people li[data-user='{cast.olga.pk}']").wait_for()
        olga.locator(f"#presence-people li[data-user='{cast.alice.pk}']").wait_for()

        # Olga starts a reply: Alice sees her typing; the text is kept as a draft.
        olga.locator("#message-form label.vis-public").click()
        olga.locator("#message-body").press_sequentially("Закроем завтра", delay=30)
        alice.locator(
            f"#presence-people li[data-user='{cast.olga.pk}'] .presence-typing"
        ).wait_for()
        assert "печатает ответ" in alice.locator("#presence-people").inner_text()
        alice.screenshot(path=str(artifacts_dir / "presence_typing.png"))
        deadline = time.monotonic() + 10
        olga_draft = (cast.olga.pk, case.pk, "Закроем завтра")
        while not _count(url, DRAFT_TEXT, olga_draft):
            assert time.monotonic() < deadline, "the draft was not saved"
            time.sleep(0.2)

        # A reload keeps the draft (and does not mark Alice as gone for good).
        olga.reload()
        expect(olga.locator("#message-body")).to_have_value("Закроем завтра")  # no eval: CSP
        assert olga.locator("#message-form input[value='public']").is_checked()

        # Alice replies first; Olga's page shows it live, marked as new.
        alice.locator("#message-form label.vis-public").click()
        alice.fill("#message-body", "Закроем сегодня, ждите СМС.")
        alice.locator("#message-form button[type=submit]").click()
        alice.locator("#timeline").filter(has_text="Закроем сегодня").wait_for()
        olga.locator("#timeline li.is-new").filter(has_text="Закроем сегодня").wait_for()
        olga.locator("#presence-live-strip:not([hidden])").wait_for()

        # Olga sends hers: held, with Alice's reply shown; nothing went out.
        olga.locator("#message-form button[type=submit]").click()
        held = olga.locator(".presence-held")
        held.wait_for()
        assert "Закроем сегодня" in held.inner_text()
        assert not _count(url, MESSAGES, ("Закроем завтра", cast.olga.pk))
        assert olga.locator("#message-body").input_value() == "Закроем завтра"
        olga.screenshot(path=str(artifacts_dir / "presence_held.png"), full_page=True)
        # She confirms: now it goes, and the draft is gone.
        olga.locator("#message-form button[type=submit]").click()
        olga.locator("#timeline").filter(has_text="Закроем завтра").wait_for()
        assert _count(url, MESSAGES, ("Закроем завтра", cast.olga.pk)) == 1
        assert not _count(url, DRAFTS, (cast.olga.pk, case.pk))

        # Her own reply is not marked as news on her page.
        assert olga.locator("#timeline li.is-new").filter(has_text="Закроем завтра").count() == 0

        # The client's card shows who else has it open, too.
        card_path = f"/clients/{case.client_id}/"
        alice.goto(first.url + card_path)
        olga.goto(second.url + card_path)
        alice.locator(f"#presence-people li[data-user='{cast.olga.pk}']").wait_for()
        olga.locator(f"#presence-people li[data-user='{cast.alice.pk}']").wait_for()
        olga.screenshot(path=str(artifacts_dir / "presence_card.png"))
        alice.goto(first.url + case_path)
        olga.goto(second.url + case_path)
        olga.locator(f"#presence-people li[data-user='{cast.alice.pk}']").wait_for()

        # Alice closes her tab: gone from Olga's list within 10 s.
        alice.close()
        started = time.monotonic()
        olga.locator(f"#presence-people li[data-user='{cast.alice.pk}']").wait_for(
            state="detached", timeout=10_000
        )
        assert time.monotonic() - started < 10
        alice_ctx.close()

        # Alice's network goes (a killed process: no close frame at all): gone within 10 s.
        lost_ctx, lost = _login(browser, first, "alice")
        lost.goto(first.url + case_path)
        olga.locator(f"#presence-people li[data-user='{cast.alice.pk}']").wait_for()
        if second is not first:
            first.kill()  # Alice's server process dies; Olga's keeps serving
            started = time.monotonic()
            olga.locator(f"#presence-people li[data-user='{cast.alice.pk}']").wait_for(
                state="detached", timeout=10_000
            )
            assert time.monotonic() - started < 10
        lost_ctx.close()
        olga_ctx.close()
    finally:
        first.kill()
        second.kill()
