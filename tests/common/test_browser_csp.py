"""In a real browser, the main pages run under the Content-Security-Policy without a single
violation, and htmx and the chat widget still work."""

import re

import pytest

from otklik.accounts.models import Role
from otklik.clients.services import client_create
from tests.factories import TeamFactory, UserFactory, make_case

WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile
    + ":" + e.lineNumber);
});
"""


def _violations(page, console: list[str]) -> list[str]:
    return page.evaluate("window.__csp || []") + [m for m in console if "Content Security" in m]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_main_pages_have_no_csp_violations_and_htmx_still_works(
    live_server, browser_page, artifacts_dir
):
    team = TeamFactory(name="Вторая линия")
    UserFactory(username="irina", role=Role.OPERATOR, team=team)
    UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    person = client_create(last_name="Кузнецов", first_name="Игорь", phones=["+79161234567"])
    case = make_case(actor=UserFactory(username="olga", team=team), client=person)

    page = browser_page
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH_VIOLATIONS)
    seen: dict[str, list[str]] = {}

    def visit(path: str) -> None:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        seen[path] = _violations(page, console)
        console.clear()

    # Public pages: portal login, FAQ, the bank site with the chat widget.
    visit("/portal/login/")
    visit("/faq/")
    visit("/chat/demo/")
    # The widget styled itself without an inline <style> (a constructed stylesheet).
    position = page.evaluate(
        """() => { for (const el of document.querySelectorAll('body *')) {
             if (el.shadowRoot) { const b = el.shadowRoot.querySelector('.launcher');
               if (b) return getComputedStyle(b).position; } } return null; }"""
    )
    assert position == "fixed", "the chat widget lost its styles"
    page.screenshot(path=str(artifacts_dir / "csp_chat_demo.png"))

    # Staff: login, queue, client card with an htmx intake form, case, knowledge, chats.
    visit("/")
    page.fill("#id_username", "irina")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.wait_for_load_state("networkidle")
    seen["/ (after login)"] = _violations(page, console)
    visit(f"/clients/{person.pk}/")
    page.evaluate("window.__noReload = true")
    page.click("a.channel-btn[data-channel=chat]")
    page.locator("#intake-form input[name=subject]").wait_for()  # swapped in by htmx
    assert page.evaluate("window.__noReload") is True
    seen["intake form (htmx)"] = _violations(page, console)
    visit(f"/cases/{case.pk}/")
    visit("/knowledge/")
    visit("/chat/")
    page.screenshot(path=str(artifacts_dir / "csp_chat_queue.png"))

    # The admin, as a superuser: its login is the staff login (throttled, second factor).
    page.context.clear_cookies()
    visit("/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pass-12345")
    page.click(".login button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    visit("/admin/accounts/user/")
    visit("/admin/accounts/user/add/")

    assert {path: found for path, found in seen.items() if found} == {}
