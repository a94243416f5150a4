"""End to end on a real daphne: a simulated PBX posts signed call events over HTTP; the
operator at the ringing extension sees the caller's card pop up (and opens it with the
intake form ready), the other operator sees nothing; an unknown number pops a search."""

import time

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from otklik.clients.models import ChannelKind, ContactPoint
from otklik.telephony.models import OperatorExtension
from tests.chat.server import Server, database_url
from tests.factories import ClientFactory
from tests.telephony.pbx import Pbx, http_transport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(browser, server, username):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(server.url + "/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-12345")
    page.locator("main button.btn-primary[type=submit]").click()
    page.wait_for_url(server.url + "/")
    return page


def _live_ready(page):
    """Wait until the page's live socket said hello (the unread badge is set then)."""
    page.wait_for_function("document.getElementById('live-badge') !== null")
    time.sleep(1.0)


def test_call_pops_the_right_client_card_for_the_right_operator_only(
    browser, cast, tmp_path, artifacts_dir
):
    hasher = PBKDF2PasswordHasher()
    for user in (cast.alice, cast.bob):
        user.password = hasher.encode("pass-12345", hasher.salt(), iterations=1000)
        user.save(update_fields=["password"])
    OperatorExtension.objects.create(user=cast.alice, extension="101")
    OperatorExtension.objects.create(user=cast.bob, extension="102")
    maria = ClientFactory(last_name="Соколова", first_name="Мария")
    ContactPoint.objects.create(client=maria, kind=ChannelKind.PHONE, value="+79161234567")
    server = Server(database_url(tmp_path))
    server.start()
    try:
        alice = _login(browser, server, "alice")
        bob = _login(browser, server, "bob")
        _live_ready(alice)
        _live_ready(bob)
        pbx = Pbx(http_transport(server.url))
        status, _body = pbx.send("ringing", "b1", caller="8 916 123-45-67", extension="101")
        assert status == 201
        pop = alice.locator("#call-pop")
        try:
            pop.locator("[data-test=pop-client]").wait_for(timeout=5_000)
        except Exception:
            alice.screenshot(path=str(artifacts_dir / "screen_pop_failure.png"))
            raise
        assert "Соколова Мария" in pop.inner_text()
        assert "+7 916 123-45-67" in pop.inner_text()
        alice.screenshot(path=str(artifacts_dir / "screen_pop_alice.png"))
        # Bob, at another extension, gets no pop-up.
        time.sleep(1.0)
        assert bob.locator("#call-pop").is_hidden()

        # Alice opens the card: the intake form for a phone contact is there.
        pop.locator("[data-test=pop-open]").click()
        alice.wait_for_url(f"**/clients/{maria.pk}/?intake=phone#intake")
        alice.locator("#intake").wait_for()
        alice.screenshot(path=str(artifacts_dir / "screen_pop_card.png"))

        # An unknown number rings at Bob's: he is offered a search for it.
        pbx.send("ringing", "b2", caller="+7 999 555-44-33", extension="102")
        bob.locator("#call-pop [data-test=pop-unknown]").wait_for(timeout=5_000)
        assert bob.locator("#call-pop input[type=search]").input_value() == "+7 999 555-44-33"
        bob.screenshot(path=str(artifacts_dir / "screen_pop_unknown.png"))
    finally:
        server.kill()
