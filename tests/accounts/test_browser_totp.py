"""In a browser: a supervisor whose role requires it connects an authenticator app, then
signs in with password and code."""

import re
import time

import pyotp
import pytest

from otklik.accounts.models import Role
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_enrols_and_signs_in_with_a_code(live_server, browser, artifacts_dir, settings):
    settings.OTKLIK_REQUIRE_2FA_ROLES = ["admin", "supervisor"]
    UserFactory(username="sue", first_name="Светлана", role=Role.SUPERVISOR)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)

    def password():
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "sue")
        page.fill("#id_password", "pass-12345")
        page.locator("section.login form button[type=submit]").click()

    password()
    page.wait_for_url(re.compile(r"/account/2fa/$"))
    assert page.locator(".totp-qr svg").count() == 1
    page.screenshot(path=str(artifacts_dir / "totp_enrolment.png"), full_page=True)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.locator(".totp-setup form button[type=submit]").click()
    page.locator("#totp-enrolled").wait_for()

    page.locator("form[action='/logout/'] button").click()
    password()
    page.wait_for_url(re.compile(r"/account/login/code/$"))
    page.fill("#id_code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.locator("section.login form button[type=submit]").click()
    page.locator("#code-error").wait_for()
    page.screenshot(path=str(artifacts_dir / "totp_login_code.png"), full_page=True)
    # The next step's code (the enrolment used the current one; a code is good once).
    page.fill("#id_code", pyotp.TOTP(secret).at(int(time.time()) + 30))
    page.locator("section.login form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    assert "Светлана" in page.locator(".whoami").inner_text()
    context.close()
