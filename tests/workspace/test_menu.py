"""The main menu leads to every page a role may open (and to none it may not)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_kpi_page_is_in_the_menu_for_those_who_may_open_it(cast, client):
    for user in (cast.sue, cast.alice):
        client.force_login(user)
        page = client.get(reverse("workspace:queue")).content.decode()
        assert f'href="{reverse("analytics:dashboard")}" data-test="nav-kpi"' in page
        assert "Показатели" in page
        assert client.get(reverse("analytics:dashboard")).status_code == 200
    client.force_login(cast.sam)
    page = client.get(reverse("handoffs:department_queue")).content.decode()
    assert 'data-test="nav-kpi"' not in page
    assert client.get(reverse("analytics:dashboard")).status_code == 403


def test_the_widget_draws_its_paperclip_instead_of_an_emoji():
    from pathlib import Path

    import otklik.chat

    widget = (Path(otklik.chat.__file__).parent / "static" / "chat" / "widget.js").read_text()
    assert "📎" not in widget and "class='attach'><svg" in widget
