"""Requests on long-lived threads: a request's database connection is there for the next."""

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished, request_started
from django.db import connection

from otklik.ops.asgi_handler import PooledThreadASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)


def _scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _get(app, path: str) -> int:
    communicator = ApplicationCommunicator(app, _scope(path))
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=60)
    while True:
        message = await communicator.receive_output(timeout=60)
        if not message.get("more_body"):
            break
    await communicator.wait()
    return start["status"]


def test_consecutive_requests_share_one_thread_and_one_database_connection():
    app = PooledThreadASGIHandler(threads=3)
    seen: list[tuple[int, int]] = []

    def query(**kwargs):
        # What any page does: a query, on the thread that serves the request.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def after(**kwargs):
        seen.append((threading.get_ident(), id(connection.connection)))

    request_started.connect(query)
    request_finished.connect(after)
    try:
        statuses = [asyncio.run(_get(app, "/healthz/live")) for _ in range(3)]
    finally:
        request_started.disconnect(query)
        request_finished.disconnect(after)
    assert statuses == [200, 200, 200]
    assert len(seen) == 3
    assert {thread for thread, _ in seen} == {seen[0][0]}
    assert seen[0][0] != threading.get_ident()
    assert {conn for _, conn in seen} == {seen[0][1]}, "a new connection was opened"


def test_a_request_does_not_wait_for_a_busy_thread_while_another_is_free():
    """The first request blocks until the second has started: on one thread, it never would."""
    app = PooledThreadASGIHandler(threads=2)
    second_started = threading.Event()
    threads: list[int] = []
    calls = 0

    def on_start(**kwargs):
        nonlocal calls
        calls += 1
        threads.append(threading.get_ident())
        if calls == 1:
            assert second_started.wait(timeout=5), "the second request never started"
        else:
            second_started.set()

    async def both():
        first = asyncio.ensure_future(_get(app, "/healthz/live"))
        await asyncio.sleep(0.05)
        return await asyncio.gather(first, _get(app, "/healthz/live"))

    request_started.connect(on_start)
    try:
        statuses = asyncio.run(both())
    finally:
        request_started.disconnect(on_start)
    assert statuses == [200, 200]
    assert len(set(threads)) == 2
    assert app.in_flight == [0, 0]


def test_the_least_busy_thread_is_chosen_and_at_least_one_is_required():
    app = PooledThreadASGIHandler(threads=3)
    app.in_flight[:] = [2, 1, 1]
    assert app.pick_thread() == 1
    app.in_flight[:] = [0, 0, 0]
    assert app.pick_thread() == 0
    with pytest.raises(ValueError, match="at least one"):
        PooledThreadASGIHandler(threads=0)


def test_websocket_scopes_are_refused_like_djangos_handler():
    app = PooledThreadASGIHandler(threads=1)
    with pytest.raises(ValueError, match="not websocket"):
        asyncio.run(app({"type": "websocket"}, None, None))
