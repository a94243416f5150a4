"""Russian by default even for an English browser; the header switch still chooses English."""

from django.conf import settings


def test_english_browser_gets_russian(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Вход в рабочее место" in page


def test_chosen_english_wins(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Вход в рабочее место" not in page
