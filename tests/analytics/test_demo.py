"""The analytics demo makes every figure and chart on the dashboard show something."""

import pytest
from django.urls import reverse

from otklik.analytics import selectors
from otklik.analytics.demo import load_demo_analytics
from otklik.analytics.models import DashboardScope
from otklik.cases.models import Topic
from otklik.clients.models import BusinessLine
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_fills_every_figure_for_every_business_line(client):
    story_client = ClientFactory()
    head = UserFactory(username="supervisor", role="supervisor")
    assert load_demo_analytics() is True
    assert load_demo_analytics() is False  # idempotent
    assert not story_client.cases.exists()  # the stories' clients are left as they are
    assert DashboardScope.objects.get(user=head).sees_all
    scope = selectors.scope_for(head)
    roots = Topic.objects.filter(parent__isnull=True, children__isnull=False).distinct()
    assert roots.count() == 5  # one per team of the five stories
    for line in BusinessLine.values:
        f = selectors.filters_from({"period": "month", "line": line}, scope=scope)
        figures = selectors.figures(selectors.totals(selectors.rollups(scope, f)))
        for key in ("contacts", "csi", "nps", "fcr", "sl", "asa", "aht"):
            assert figures[key] is not None, (line, key)
        assert 0 < figures["fcr"] < 100 and 0 < figures["sl"] <= 100
    client.force_login(head)
    page = client.get(reverse("analytics:dashboard"), {"period": "month", "compare": "1"})
    html = page.content.decode()
    assert page.status_code == 200 and "Запросов за период нет" not in html
    assert "Комментариев за период нет" not in html
