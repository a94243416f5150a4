"""Rollups: hand-computed figures from raw rows, and the property that the incremental
scan, a rebuild and a recomputation from the raw rows all agree."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from otklik.analytics import metrics, rollups, selectors
from otklik.analytics.facts import COUNTERS, DIMENSIONS
from otklik.analytics.models import DailyRollup, HourlyRollup, RollupWatermark
from otklik.cases.models import Direction
from tests.analytics.builders import raw_case, raw_contact, raw_csi, raw_portal_answer, raw_reopen
from tests.factories import ClientFactory, TeamFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def team_totals(team_id: int) -> dict:
    return selectors.totals(HourlyRollup.objects.filter(team_id=team_id))


def daily_team_totals(team_id: int) -> dict:
    return selectors.totals(DailyRollup.objects.filter(team_id=team_id))


def assert_daily_is_sum_of_hourly() -> None:
    """Every daily row equals the sum of its local day's hourly rows with the same key,
    and no key of an hour is missing from its day."""
    from django.utils import timezone

    summed: dict = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in HourlyRollup.objects.values("hour", *DIMENSIONS, *COUNTERS):
        day = rollups.day_start(timezone.localdate(row["hour"]))
        into = summed[(day, *(row[d] for d in DIMENSIONS))]
        for name in COUNTERS:
            into[name] += row[name]
    daily = {
        (row["day"], *(row[d] for d in DIMENSIONS)): {name: row[name] for name in COUNTERS}
        for row in DailyRollup.objects.values("day", *DIMENSIONS, *COUNTERS)
    }
    assert daily == dict(summed)


def test_hand_computed_day_of_one_team(settings):
    settings.OTKLIK_FCR_REPEAT_DAYS = 7
    team, topic = TeamFactory(), TopicFactory()
    alice = UserFactory(team=team)
    client, other = ClientFactory(), ClientFactory()
    # Case 1: one call, resolved, no repeat → FCR. Talk 240 s + wrap 60 s, waited 10 s.
    c1 = raw_case(client=client, team=team, owner=alice, topic=topic, created=T0, resolved=T0 + H)
    raw_contact(c1, at=T0, operator=alice, talk=240, wrap=60, queue=10)
    raw_csi(c1, score=5, at=T0 + 2 * H)
    # Case 2: same client and topic 3 days after case 1 → case 1 is not FCR after all;
    # two calls (the second waited 30 s, over the 20 s threshold) → not FCR either.
    c2 = raw_case(
        client=client,
        team=team,
        owner=alice,
        topic=topic,
        created=T0 + 3 * D,
        resolved=T0 + 3 * D + H,
    )
    raw_contact(c2, at=T0 + 3 * D, operator=alice, talk=100, queue=5)
    raw_contact(
        c2,
        at=T0 + 3 * D + 10 * 60 * timedelta(seconds=1),
        operator=alice,
        talk=200,
        wrap=20,
        queue=30,
    )
    raw_csi(c2, score=3, at=T0 + 3 * D + 2 * H)
    # Case 3: another client, one call abandoned in the queue, then called back (outbound);
    # resolved but reopened → not FCR.
    c3 = raw_case(client=other, team=team, topic=topic, created=T0, resolved=T0 + 2 * H)
    raw_contact(c3, at=T0, queue=50)
    raw_contact(c3, at=T0 + H, operator=alice, direction=Direction.OUTBOUND, talk=60)
    raw_reopen(c3, at=T0 + 3 * H)
    raw_portal_answer(c3, at=T0 + H, on_time=True, author=alice)
    raw_portal_answer(c3, at=T0 + 2 * H, on_time=False, author=alice)

    rollups.rebuild(since=T0 - D, until=T0 + 10 * D, now=T0 + 10 * D)
    t = team_totals(team.pk)
    assert t["contacts"] == 4  # inbound only
    assert (t["handled"], t["handle_seconds"]) == (4, 300 + 100 + 220 + 60)
    assert (t["offered"], t["answered"], t["answered_in_sl"]) == (4, 3, 2)
    assert t["wait_seconds"] == 10 + 5 + 30
    assert (t["csi_count"], t["csi_sum"], t["csi_good"]) == (2, 8, 1)
    assert (t["resolved"], t["fcr"]) == (3, 0)
    assert (t["portal_answers"], t["portal_on_time"]) == (2, 1)
    f = selectors.figures(t)
    assert f["aht"] == metrics.round_half_up(680 / 4, 1)  # 170.0 s
    assert f["sl"] == metrics.share(2, 4) and f["asa"] == metrics.round_half_up(45 / 3, 1)
    assert f["csi"] == metrics.round_half_up(4, 2) and f["fcr"] == 0

    # With N = 2 days the repeat on day 3 no longer counts: case 1 becomes FCR.
    settings.OTKLIK_FCR_REPEAT_DAYS = 2
    rollups.rebuild(since=T0 - D, until=T0 + 10 * D, now=T0 + 10 * D)
    assert team_totals(team.pk)["fcr"] == 1


def test_scan_builds_everything_first_then_only_what_changed(settings):
    team = TeamFactory()
    client = ClientFactory()
    old = raw_case(client=client, team=team, created=T0 - 60 * D)
    raw_contact(old, at=T0 - 60 * D, talk=30, operator=UserFactory())
    rating = raw_csi(old, score=2, at=T0 - 60 * D + H)
    rollups.rollup_scan(now=T0)
    assert RollupWatermark.objects.get().computed_until == T0
    assert (team_totals(team.pk)["contacts"], team_totals(team.pk)["csi_sum"]) == (1, 2)
    # The client changes that old rating now: its hour is far behind the look-back, yet the
    # scan refreshes it (the rating's updated_at is past the watermark).
    rating.score, rating.updated_at = 4, T0 + H
    rating.save(update_fields=["score", "updated_at"])
    new = raw_case(client=client, team=team, created=T0 + H)
    raw_contact(new, at=T0 + H)
    rollups.rollup_scan(now=T0 + 2 * H)
    t = team_totals(team.pk)
    assert (t["contacts"], t["csi_count"], t["csi_sum"]) == (2, 1, 4)


# --- The property: rollups == recomputation from raw rows ------------------------------

contact = st.tuples(
    st.integers(0, 5 * 24 * 60),  # minutes after T0
    st.sampled_from([Direction.INBOUND, Direction.OUTBOUND]),
    st.one_of(st.none(), st.integers(0, 1800)),  # talk seconds (None: not finished)
    st.one_of(st.none(), st.integers(0, 300)),  # wrap-up
    st.one_of(st.none(), st.integers(0, 90)),  # queue wait
    st.booleans(),  # taken by an operator
)
case_spec = st.fixed_dictionaries(
    {
        "client": st.integers(0, 2),
        "topic": st.sampled_from([None, 0, 1]),
        "team": st.integers(0, 1),
        "created": st.integers(0, 10 * 24),  # hours after T0
        "resolve_after": st.one_of(st.none(), st.integers(0, 72)),
        "contacts": st.lists(contact, max_size=3),
        "csi": st.one_of(st.none(), st.integers(1, 5)),
        "reopened": st.booleans(),
    }
)


def expected_per_team(specs, teams, now, repeat_days) -> dict[int, dict]:
    """Recompute the counters from the generated rows with metrics.py alone (no SQL)."""
    out: dict[int, dict] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    facts = []
    for i, s in enumerate(specs):
        created = T0 + s["created"] * H
        resolved = created + s["resolve_after"] * H if s["resolve_after"] is not None else None
        inbound = [c for c in s["contacts"] if c[1] == Direction.INBOUND]
        facts.append(
            metrics.CaseFacts(
                i,
                s["client"],
                s["topic"],
                created,
                resolved,
                len(inbound),
                s["reopened"] and resolved is not None,
            )
        )
    for i, s in enumerate(specs):
        t = out[teams[s["team"]]]
        created = T0 + s["created"] * H
        for minutes, direction, talk, wrap, queue, taken in s["contacts"]:
            at = T0 + timedelta(minutes=minutes)
            if direction == Direction.INBOUND:
                t["contacts"] += 1
                if queue is not None:
                    t["offered"] += 1
                    if taken:
                        t["answered"] += 1
                        t["wait_seconds"] += queue
                        t["answered_in_sl"] += int(queue <= 20)
            seconds = (
                metrics.handle_seconds(at, at + timedelta(seconds=talk), wrap)
                if (taken and talk is not None)
                else None
            )
            if seconds is not None:
                t["handled"] += 1
                t["handle_seconds"] += seconds
        if s["csi"] is not None:
            t["csi_count"] += 1
            t["csi_sum"] += s["csi"]
            t["csi_good"] += int(s["csi"] >= 4)
        f = facts[i]
        if f.resolved_at is not None and f.resolved_at < now:
            t["resolved"] += 1
            after = [
                T0 + timedelta(minutes=c[0]) for c in s["contacts"] if c[1] == Direction.INBOUND
            ]
            t["fcr"] += int(
                metrics.is_first_contact_resolution(
                    f, facts, repeat_days=repeat_days, contacts_after_resolution=after
                )
            )
    return out


def build(specs, *, teams, clients, topics, operator, upto=None):
    for s in specs:
        created = T0 + s["created"] * H
        resolved = created + s["resolve_after"] * H if s["resolve_after"] is not None else None
        c = raw_case(
            client=clients[s["client"]],
            team=teams[s["team"]],
            created=created,
            resolved=resolved,
            topic=topics[s["topic"]] if s["topic"] is not None else None,
        )
        for minutes, direction, talk, wrap, queue, taken in s["contacts"]:
            raw_contact(
                c,
                at=T0 + timedelta(minutes=minutes),
                direction=direction,
                talk=talk,
                wrap=wrap,
                queue=queue,
                operator=operator if taken else None,
            )
        if s["csi"] is not None:
            raw_csi(c, score=s["csi"], at=created + H)
        if s["reopened"] and resolved is not None:
            raw_reopen(c, at=resolved + H)


@pytest.fixture
def world(db):
    teams = [TeamFactory(), TeamFactory()]
    return {
        "teams": teams,
        "clients": [ClientFactory() for _ in range(3)],
        "topics": [TopicFactory(), TopicFactory()],
        "operator": UserFactory(team=teams[0]),
    }


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(case_spec, max_size=8))
def test_rollups_equal_a_recomputation_from_raw_rows(world, settings, specs):
    settings.OTKLIK_FCR_REPEAT_DAYS = 7
    now = T0 + 30 * D
    with transaction.atomic():
        build(specs, **world)
        rollups.rebuild(since=T0 - D, until=T0 + 14 * D, now=now)
        expected = expected_per_team(specs, [t.pk for t in world["teams"]], now, 7)
        for team in world["teams"]:
            assert team_totals(team.pk) == expected[team.pk]
            assert daily_team_totals(team.pk) == expected[team.pk]
        assert_daily_is_sum_of_hourly()
        transaction.set_rollback(True)


@hsettings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(case_spec, max_size=8), steps=st.lists(st.integers(1, 96), max_size=4))
def test_incremental_scans_end_where_a_rebuild_ends(world, settings, specs, steps):
    """Scans at several moments (rows inserted in between) leave the same table as one
    rebuild at the end: the look-back absorbs late changes such as an FCR repeat."""
    settings.OTKLIK_FCR_REPEAT_DAYS = 2
    with transaction.atomic():
        rollups.rollup_scan(now=T0 - D)  # empty database: the watermark starts here
        moments = [T0]
        for hours in steps:
            moments.append(moments[-1] + hours * H)
        end = T0 + 20 * D
        moments.append(end)
        done = set()
        for moment in moments:
            # rows whose case opened before this moment appear now (a later row's own
            # events may lie in the future of the moment; the next scans pick them up)
            batch = [
                s for i, s in enumerate(specs) if i not in done and T0 + s["created"] * H < moment
            ]
            done |= {i for i, s in enumerate(specs) if s in batch}
            build(batch, **world)
            rollups.rollup_scan(now=moment)
        build([s for i, s in enumerate(specs) if i not in done], **world)
        rollups.rollup_scan(now=end + 10 * D)
        scanned = snapshot()
        assert_daily_is_sum_of_hourly()
        rollups.rebuild(now=end + 10 * D)
        assert scanned == snapshot()
        assert_daily_is_sum_of_hourly()
        transaction.set_rollback(True)


def snapshot() -> dict:
    rows = HourlyRollup.objects.values("hour", "team_id", "operator_id", "channel", "topic_id")
    return {
        (r["hour"], r["team_id"], r["operator_id"], r["channel"], r["topic_id"]): tuple(
            r[c] for c in COUNTERS
        )
        for r in rows.annotate(**{c + "_s": Sum(c) for c in COUNTERS}).values(
            "hour", "team_id", "operator_id", "channel", "topic_id", *COUNTERS
        )
    }


def test_rebuild_command(db, capsys):
    from django.core.management import CommandError, call_command

    team = TeamFactory()
    c = raw_case(client=ClientFactory(), team=team, created=T0)
    raw_contact(c, at=T0)
    call_command("analytics_rebuild", "--since", "2026-03-01", "--until", "2026-03-03")
    assert team_totals(team.pk)["contacts"] == 1
    assert "rollup rows written" in capsys.readouterr().out
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("analytics_rebuild", "--since", "March")
    with pytest.raises(CommandError, match="after"):
        call_command("analytics_rebuild", "--since", "2026-03-03", "--until", "2026-03-01")


def test_the_period_chooses_the_level_and_both_levels_give_the_same_figures(settings, cast):
    """Whole local days longer than one day read the daily rows; today reads the hourly
    ones; a period read at either level gives the same figures and series."""
    from dataclasses import replace

    from django.utils import timezone

    team = TeamFactory()
    now = timezone.now()
    for n in range(40):
        at = now - timedelta(hours=7 * n + 1)
        c = raw_case(client=ClientFactory(), team=team, created=at, resolved=at + H)
        raw_contact(c, at=at, operator=cast.alice, talk=60 + n, queue=n)
        raw_csi(c, score=1 + n % 5, at=at + 2 * H)
    rollups.rebuild(since=now - 20 * D, now=now)
    scope = selectors.Scope(kind="all")
    week = selectors.filters_from({"period": "week"}, scope=scope)
    assert selectors.level(week)[0] is DailyRollup
    assert selectors.level(selectors.filters_from({"period": "today"}, scope=scope))[0] is (
        HourlyRollup
    )
    odd = replace(week, since=week.since + H)  # not on a local midnight
    assert selectors.level(odd)[0] is HourlyRollup
    hourly = HourlyRollup.objects.filter(hour__gte=week.since, hour__lt=week.until)
    daily = selectors.rollups(scope, week)
    assert daily.model is DailyRollup and daily.exists()
    assert selectors.totals(daily) == selectors.totals(hourly)
    inside = sum(1 for n in range(40) if now - timedelta(hours=7 * n + 1) >= week.since)
    assert selectors.totals(daily)["contacts"] == inside > 20
    assert selectors.series(daily, week) == selectors.series(hourly, week)
    total, tables = selectors.overview(daily, scope)
    assert total == selectors.totals(hourly)
    assert tables["team"] == selectors.breakdown(hourly, "team", scope)
    assert tables["operator"] == selectors.breakdown(hourly, "operator", scope)
    own = selectors.Scope(kind="self", user_id=cast.alice.pk)
    assert "operator" not in selectors.overview(daily, own)[1]
