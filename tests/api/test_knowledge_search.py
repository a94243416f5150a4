"""The API searches as the screen does: as you type, so a word's beginning finds it."""

from otklik.knowledge.services import seed_procedures


def test_api_completes_the_last_word_like_the_screen(client, db):
    seed_procedures()
    response = client.get("/api/knowledge/search", {"q": "закр"})
    assert response.status_code == 200
    assert response.json()["hits"], "«закр» must find the closing procedures"
