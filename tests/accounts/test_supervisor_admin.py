"""A supervisor configures topics, teams and users in the admin; an operator cannot."""

from otklik.accounts.services import supervisor_grant_admin


def test_supervisor_can_configure_topics_and_teams(cast, client):
    supervisor_grant_admin(user=cast.sue)
    client.force_login(cast.sue)
    for url in (
        "/admin/cases/topic/",
        "/admin/accounts/team/",
        "/admin/accounts/user/",
        "/admin/cases/topic/add/",
    ):
        assert client.get(url).status_code == 200, url
    response = client.post("/admin/cases/topic/add/", {"name": "Закрытие ИИС", "is_active": "on"})
    assert response.status_code == 302


def test_operator_has_no_admin(cast, client):
    client.force_login(cast.alice)
    response = client.get("/admin/cases/topic/")
    assert response.status_code == 302 and "/login/" in response["Location"]
