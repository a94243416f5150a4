"""The English UI shows the policy's own texts and the catalogue's names in English
(issue 16): rows keep an English twin next to the Russian text, Russian when it is empty."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from otklik.actions.models import ActionType, Effect, PolicyRule
from otklik.actions.policy import evaluate
from tests.actions.test_browser_story002 import _login, _open

ACTION = ActionType(code="x", name="Снять арест", name_en="Lift an arrest", enabled=True)


def _deny(**texts) -> PolicyRule:
    return PolicyRule(pk=1, effect=Effect.DENY, roles=[], channels=["chat"], **texts)


def test_a_refusal_speaks_the_active_language_and_falls_back_to_russian():
    rule = _deny(
        message_ru="Нельзя в переписке",
        message_en="Not in writing",
        alternative_ru="по звонку на 900",
        alternative_en="by a call to 900",
    )
    with translation.override("en"):
        decision = evaluate(ACTION, role="operator", channel="chat", rules=[rule])
        assert (decision.reason, decision.alternative) == ("Not in writing", "by a call to 900")
        assert ACTION.display_name == "Lift an arrest"
    with translation.override("ru"):
        decision = evaluate(ACTION, role="operator", channel="chat", rules=[rule])
        assert (decision.reason, decision.alternative) == ("Нельзя в переписке", "по звонку на 900")
        assert ACTION.display_name == "Снять арест"
    untranslated = _deny(message_ru="Нельзя в переписке")
    with translation.override("en"):
        decision = evaluate(ACTION, role="operator", channel="chat", rules=[untranslated])
        assert decision.reason == "Нельзя в переписке"


def test_the_demo_catalogue_has_english_for_every_name_and_rule_text(catalogue):
    for action in ActionType.objects.all():
        assert action.name_en, action.code
    for rule in PolicyRule.objects.exclude(message_ru=""):
        assert rule.message_en, rule.message_ru
    for rule in PolicyRule.objects.exclude(alternative_ru=""):
        assert rule.alternative_en, rule.alternative_ru


def test_a_catalogue_loaded_before_the_twins_gets_them(catalogue):
    from otklik.actions.demo import load_demo_actions

    PolicyRule.objects.update(message_en="", alternative_en="")
    ActionType.objects.update(name_en="")
    load_demo_actions()
    action = ActionType.objects.get(code="lift_fraud_check")
    assert action.name_en == "Lift the transaction legitimacy check"
    assert action.rules.exclude(message_en="").exists()


def test_the_english_actions_panel_shows_english_actions_and_policy(client, cast, abroad):
    client.force_login(cast.bob)
    url = reverse("actions:product_panel", args=[abroad.card.pk])
    query = {"case": abroad.chat_case.pk}
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(url, query).content.decode()
    assert "Lift the transaction legitimacy check" in html
    assert "In chat only after the security service marked the client as verified" in html
    assert "Снять проверку правомерности операций" not in html
    assert "только после того, как СБ" not in html

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    html = client.get(url, query).content.decode()
    assert "Снять проверку правомерности операций" in html
    assert "только после того, как СБ" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_english_card_shows_english_policy(
    live_server, browser, browser_page, artifacts_dir, abroad, cast
):
    """The client card in English, looked at: action names and the refusal in English."""
    page = browser_page
    page.set_default_timeout(60_000)  # a loaded CI machine: the live server is slow to start
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    _login(page, live_server.url, cast.bob.username)
    card_url = f"{live_server.url}/clients/{abroad.client.pk}/?case={abroad.chat_case.pk}"
    _open(page, card_url, f"#product-actions-{abroad.card.pk} .actions-panel")
    item = page.locator(f"#product-actions-{abroad.card.pk} li[data-action=lift_fraud_check]")
    item.wait_for()
    text = item.inner_text()
    assert "Lift the transaction legitimacy check" in text
    assert "security service marked the client as verified" in text
    assert "СБ" not in text
    page.screenshot(path=str(artifacts_dir / "actions_en_card_policy.png"), full_page=True)
