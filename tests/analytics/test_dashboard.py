"""The dashboard's role rules, period and filters, drill-down and exports."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.analytics import rollups
from otklik.analytics.models import DashboardScope
from tests.analytics.builders import raw_case, raw_contact, raw_csi
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
URL = reverse("analytics:dashboard")


@pytest.fixture
def data(cast):
    """Alice (team A) and Bob (team B) each handled calls this morning."""
    now = timezone.now()
    at = now - timedelta(hours=1)
    a = raw_case(
        client=ClientFactory(),
        team=cast.team_a,
        owner=cast.alice,
        created=at,
        subject="Закрытие ИИС",
        resolved=at + timedelta(minutes=5),
    )
    raw_contact(a, at=at, operator=cast.alice, talk=300, queue=10)
    raw_csi(a, score=5, at=at + timedelta(minutes=10))
    b = raw_case(
        client=ClientFactory(),
        team=cast.team_b,
        owner=cast.bob,
        created=at,
        subject="Блокировка карты",
    )
    raw_contact(b, at=at, operator=cast.bob, talk=100, queue=40)
    raw_contact(b, at=at + timedelta(minutes=2), operator=cast.bob, talk=100, queue=5)
    rollups.rebuild(since=now - timedelta(days=2), now=now)
    return a, b


def kpi(page: str, key: str) -> str:
    chunk = page.split(f'data-test="drill-{key}">', 1)[1]
    return chunk.split("<", 1)[0].strip()


def test_head_sees_all_teams_and_operators(cast, client, data):
    DashboardScope.objects.create(user=cast.sue, sees_all=True)
    client.force_login(cast.sue)
    page = client.get(URL).content.decode()
    assert kpi(page, "contacts") == "3"
    assert 'id="by-operator"' in page and cast.bob.display_name in page
    assert "<svg" in page and "<desc" in page and "Показать таблицей" in page


def test_supervisor_sees_only_own_teams(cast, client, data):
    cast.sue.team = cast.team_a
    cast.sue.save()
    client.force_login(cast.sue)
    page = client.get(URL).content.decode()
    assert kpi(page, "contacts") == "1"
    assert cast.bob.display_name not in page
    assert client.get(URL, {"team": cast.team_b.pk}).status_code == 403
    assert client.get(URL, {"operator": cast.bob.pk}).status_code == 403
    scope = DashboardScope.objects.create(user=cast.sue)
    scope.teams.add(cast.team_b)
    assert kpi(client.get(URL).content.decode(), "contacts") == "3"


def test_operator_sees_self_against_the_team_without_colleagues(cast, client, data):
    other = raw_case(
        client=ClientFactory(),
        team=cast.team_a,
        owner=cast.olga,
        created=timezone.now() - timedelta(hours=1),
    )
    raw_contact(other, at=other.created_at, operator=cast.olga, talk=60)
    rollups.rebuild(since=timezone.now() - timedelta(days=1))
    client.force_login(cast.alice)
    page = client.get(URL).content.decode()
    assert kpi(page, "contacts") == "1"
    assert "команда: 2" in page  # team aggregate: Alice's and Olga's contacts
    assert 'id="by-operator"' not in page and cast.olga.display_name not in page
    assert client.get(URL, {"operator": cast.olga.pk}).status_code == 403
    assert client.get(URL, {"team": cast.team_a.pk}).status_code == 403
    drill = client.get(reverse("analytics:drill"), {"metric": "contacts"}).content.decode()
    assert "Закрытие ИИС" in drill and "Блокировка" not in drill


def test_specialist_has_no_dashboard(cast, client):
    client.force_login(cast.sam)
    assert client.get(URL).status_code == 403


def test_bad_period_and_filters_get_a_clear_error(cast, client):
    client.force_login(cast.sue)
    response = client.get(URL, {"period": "custom", "from": "2026-05-02", "to": "2026-05-01"})
    assert response.status_code == 400 and "раньше" in response.content.decode()
    assert client.get(URL, {"period": "custom", "from": "x"}).status_code == 400
    assert client.get(URL, {"channel": "fax"}).status_code == 400
    assert client.get(URL, {"team": "abc"}).status_code == 400
    assert client.get(URL, {"period": "decade"}).status_code == 400


def test_period_filter_and_compare(cast, client, data):
    DashboardScope.objects.create(user=cast.sue, sees_all=True)
    client.force_login(cast.sue)
    page = client.get(
        URL, {"period": "today", "compare": "1", "channel": "phone", "team": cast.team_b.pk}
    ).content.decode()
    assert kpi(page, "contacts") == "2"
    assert "раньше: 0" in page and "previous" in page
    day = (timezone.localdate() - timedelta(days=10)).isoformat()
    empty = client.get(URL, {"period": "custom", "from": day, "to": day}).content.decode()
    assert kpi(empty, "contacts") == "0" and kpi(empty, "csi") == "—"


def test_drill_down_lists_the_cases_behind_a_number(cast, client, data):
    DashboardScope.objects.create(user=cast.sue, sees_all=True)
    client.force_login(cast.sue)
    drill = reverse("analytics:drill")
    csi = client.get(drill, {"metric": "csi"}).content.decode()
    assert "Закрытие ИИС" in csi and "Блокировка карты" not in csi
    aht = client.get(drill, {"metric": "aht", "team": cast.team_b.pk}).content.decode()
    assert "Блокировка карты" in aht and "Закрытие ИИС" not in aht
    assert client.get(drill, {"metric": "nonsense"}).status_code == 400


def test_exports_carry_the_filters_and_read_back(cast, client, data):
    from openpyxl import load_workbook

    DashboardScope.objects.create(user=cast.sue, sees_all=True)
    client.force_login(cast.sue)
    url = reverse("analytics:export", args=["team", "xlsx"])
    response = client.get(url, {"channel": "phone"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = [r for r in book.worksheets[0].iter_rows(values_only=True)]
    assert ("Канал", "Телефон") in [r[:2] for r in rows]
    teams = {r[0]: r[1] for r in rows if r and r[0] in (cast.team_a.name, cast.team_b.name)}
    assert teams == {cast.team_a.name: 1, cast.team_b.name: 2}
    csv = client.get(reverse("analytics:export", args=["cases", "csv"]), {"metric": "contacts"})
    text = b"".join(csv.streaming_content).decode()
    assert "Закрытие ИИС" in text and "Период" in text
    assert client.get(reverse("analytics:export", args=["team", "pdf"])).status_code == 400
    client.force_login(cast.alice)
    assert client.get(reverse("analytics:export", args=["operator", "csv"])).status_code == 403


def test_backlog_in_sql_matches_the_definition(cast):
    from otklik.analytics import live, metrics, selectors

    now = timezone.now()
    ages = [timedelta(hours=2), timedelta(days=1), timedelta(days=5), timedelta(days=40)]
    for age in ages:
        raw_case(client=ClientFactory(), team=cast.team_a, created=now - age)
    overdue = raw_case(client=ClientFactory(), team=cast.team_b, created=now - timedelta(days=2))
    overdue.due_at = now - timedelta(hours=1)
    overdue.save()
    scope = selectors.Scope(kind="all")
    f = selectors.Filters()
    result = live.backlog(scope, f, now)
    expected = metrics.backlog(
        [(now - a, None) for a in ages] + [(overdue.created_at, overdue.due_at)], now
    )
    assert result["total"] == expected and result["open"] == 5
    assert dict(result["teams"])[cast.team_b.name]["overdue"] == 1


def test_backlog_ages_are_said_in_words(cast, client, data):
    client.force_login(cast.sue)
    page = client.get(URL).content.decode()
    assert "меньше суток" in page and "больше 30 дней" in page
    assert "&lt;1d" not in page and "7-30d" not in page


def test_business_line_filter_reads_the_topics_own_line_not_its_root(cast, client):
    """A bank root topic holding a broker topic (the premium desk answers about both):
    the broker line counts the broker topic, the bank line the bank ones, and a topic
    common to every line counts under none."""
    from otklik.cases.models import Topic

    DashboardScope.objects.create(user=cast.sue, sees_all=True)
    now = timezone.now()
    at = now - timedelta(hours=1)
    premium = Topic.objects.create(name="Премиальное обслуживание", business_line="bank")
    card = Topic.objects.create(name="Перевыпуск карты", parent=premium, business_line="bank")
    iis = Topic.objects.create(name="Закрытие ИИС", parent=premium, business_line="broker")
    common = Topic.objects.create(name="Смена телефона", parent=premium, business_line="")
    for topic, contacts in ((card, 1), (iis, 2), (common, 4)):
        case = raw_case(
            client=ClientFactory(), team=cast.team_a, topic=topic, created=at, subject=topic.name
        )
        for n in range(contacts):
            raw_contact(case, at=at + timedelta(minutes=n), operator=cast.alice, queue=5)
    rollups.rebuild(since=now - timedelta(days=2), now=now)
    client.force_login(cast.sue)
    counts = {}
    for line in ("", "bank", "broker", "mfo"):
        response = client.get(URL, {"period": "today", "line": line})
        assert response.status_code == 200
        counts[line] = kpi(response.content.decode(), "contacts")
    assert counts == {"": "7", "bank": "1", "broker": "2", "mfo": "0"}
    # The drill-down and the filter's line in words follow the same rule.
    drill = client.get(
        reverse("analytics:drill"), {"period": "today", "line": "broker", "metric": "contacts"}
    ).content.decode()
    assert "Закрытие ИИС" in drill and "Перевыпуск карты" not in drill
    bad = client.get(URL, {"period": "today", "line": "17"})
    assert bad.status_code == 400 and "Неизвестное направление" in bad.content.decode()
