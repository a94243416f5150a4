"""The scheduler loop: configured scans run on their interval; a missing one is skipped."""

import pytest

from otklik.jobs.periodic import PeriodicScan, Scheduler

calls: list[str] = []


def scan_a(now=None):
    calls.append("a")


def scan_broken(now=None):
    calls.append("broken")
    raise RuntimeError("boom")


@pytest.mark.django_db
def test_scans_run_on_their_interval_and_survive_failures():
    calls.clear()
    scheduler = Scheduler(
        scans=[
            PeriodicScan(path="tests.jobs.test_periodic.scan_a", every=1.0),
            PeriodicScan(path="tests.jobs.test_periodic.scan_broken", every=10.0),
            PeriodicScan(path="otklik.nowhere.services.scan_deadlines", every=1.0),
        ]
    )
    now = [100.0]
    assert scheduler.run_pending(lambda: now[0]) == [
        "tests.jobs.test_periodic.scan_a",
        "tests.jobs.test_periodic.scan_broken",
    ]
    now[0] = 100.5
    assert scheduler.run_pending(lambda: now[0]) == []
    now[0] = 101.2
    assert scheduler.run_pending(lambda: now[0]) == ["tests.jobs.test_periodic.scan_a"]
    assert calls == ["a", "broken", "a"]


@pytest.mark.django_db
def test_default_scans_include_outbox_and_sla():
    paths = [s.path for s in Scheduler().scans]
    assert "otklik.notifications.delivery.deliver_due" in paths
    assert "otklik.sla.services.scan_deadlines" in paths
    Scheduler().run_pending()  # runs whatever exists, skips what does not
