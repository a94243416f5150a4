"""Where the chat sockets do their database work: a few threads of their own, per process.

Why not Channels' `database_sync_to_async`: it closes the connection after every call when
CONN_MAX_AGE is 0 (the SQLite default here), so each socket frame paid for a fresh SQLite
connection (open, PRAGMAs, cold page cache) — profiled at about a quarter of the server's
CPU with 1 000 chats — and thread-sensitive calls queue behind every HTTP view on the one
shared sync thread, which made handshakes time out. Here:

- SQLite gets one thread: it has one writer anyway, and writes serialised in one thread
  never sleep in the busy handler waiting for each other. Its connection stays open for
  the life of the thread (WAL: readers elsewhere see each commit) and is dropped only when
  it has failed.
- Other databases get a few threads, each keeping its connection as CONN_MAX_AGE says.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections

THREADS_SQLITE = 1
THREADS_OTHER = 4

_executor: ThreadPoolExecutor | None = None


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        sqlite = connections["default"].vendor == "sqlite"
        _executor = ThreadPoolExecutor(
            max_workers=THREADS_SQLITE if sqlite else THREADS_OTHER,
            thread_name_prefix="chat-db",
        )
    return _executor


def release_broken_connections() -> None:
    """Drop this thread's connections that failed (or outlived CONN_MAX_AGE, not SQLite)."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        if conn.vendor != "sqlite":
            conn.close_if_unusable_or_obsolete()
            continue
        if conn.in_atomic_block or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]:
            conn.close()  # a call left a transaction open: never carry it to the next one
        elif conn.errors_occurred:
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()


def _run[T](func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    release_broken_connections()
    try:
        return func(*args, **kwargs)
    finally:
        release_broken_connections()


async def run[T](func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `func(*args, **kwargs)` on a chat database thread and await its result."""
    return await sync_to_async(
        partial(_run, func), thread_sensitive=False, executor=_get_executor()
    )(*args, **kwargs)
