"""SQLite writers queue on the backend's file lock: the next one goes as soon as the
first commits, and a writer that cannot get in within the timeout gets a clear error."""

import fcntl
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from otklik.cases.models import Topic

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the writer lock is SQLite's"),
]


def writer_lock_is_taken() -> bool:
    path = f"{connection.settings_dict['NAME']}.writer-lock"
    with open(path, "a") as probe:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(probe, fcntl.LOCK_UN)
        return False


def in_thread(target, errors: list) -> threading.Thread:
    def run():
        try:
            target()
        except Exception as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_second_writer_waits_for_the_first_and_goes_after_its_commit():
    events, errors = [], []
    first_inside, let_first_commit = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            Topic.objects.create(name="Первый")
            events.append("first in")
            first_inside.set()
            let_first_commit.wait(5)
        events.append("first committed")

    def second():
        first_inside.wait(5)
        with transaction.atomic():
            events.append("second in")
            Topic.objects.create(name="Второй")

    threads = [in_thread(first, errors), in_thread(second, errors)]
    first_inside.wait(5)
    time.sleep(0.3)
    assert events == ["first in"]  # the second writer is waiting, not failing
    assert writer_lock_is_taken()  # on the file lock, where a commit wakes it at once
    let_first_commit.set()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert not writer_lock_is_taken()  # released with the last commit
    assert events == ["first in", "first committed", "second in"]
    assert set(Topic.objects.values_list("name", flat=True)) == {"Первый", "Второй"}


def test_writer_that_waits_past_the_timeout_is_told_the_database_is_locked():
    errors, waited = [], []
    holding, done = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            Topic.objects.create(name="Держит")
            holding.set()
            done.wait(10)

    def latecomer():
        holding.wait(5)
        options = connections["default"].settings_dict["OPTIONS"]
        saved = options.get("timeout")
        options["timeout"] = 0.3
        started = time.monotonic()
        try:
            with transaction.atomic():
                Topic.objects.create(name="Опоздал")
        finally:
            waited.append(time.monotonic() - started)
            options["timeout"] = saved

    first = in_thread(holder, errors)
    second = in_thread(latecomer, errors)
    second.join(10)
    done.set()
    first.join(10)
    assert len(errors) == 1 and isinstance(errors[0], OperationalError)
    assert "database is locked" in str(errors[0])
    assert 0.25 < waited[0] < 5
    assert list(Topic.objects.values_list("name", flat=True)) == ["Держит"]
