"""Reads shared by the panels of one page, for the time that page is being built.

A page such as the case page is assembled by several apps' template tags, each asking
for the client's products or contacts, the case's handoffs. Inside `page_reads()` (the
view wraps the rendering of such a page in it) a read made through `memoized` is done
once and shared by every panel; outside it `memoized` simply computes, so services,
other views and tests always see fresh rows. Pages are built after any change the
request made, and a page changes nothing while it is built, so nothing shared is stale.
"""

import functools
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_reads: ContextVar[dict | None] = ContextVar("otklik_page_reads", default=None)


@contextmanager
def page_reads() -> Iterator[None]:
    """Share `memoized` reads until the block ends (nested blocks share the outer one)."""
    if _reads.get() is not None:
        yield
        return
    token = _reads.set({})
    try:
        yield
    finally:
        _reads.reset(token)


def _key(obj, key: Hashable) -> tuple:
    return (type(obj).__name__, obj.pk, key)


def memoized[T](obj, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per row of `obj` and `key` while a page is built; always otherwise."""
    reads = _reads.get()
    if reads is None:
        return compute()
    full = _key(obj, key)
    if full not in reads:
        reads[full] = compute()
    return reads[full]


def remember(obj, key: Hashable, value: object) -> None:
    """Record what is already known about `obj` for the page (e.g. that a user may see it)."""
    reads = _reads.get()
    if reads is not None:
        reads[_key(obj, key)] = value


def peek(obj, key: Hashable, default: object = None) -> object:
    """What the page has read about `obj` under `key` so far, without reading anything."""
    reads = _reads.get()
    return default if reads is None else reads.get(_key(obj, key), default)


def shares_page_reads[**P, R](view: Callable[P, R]) -> Callable[P, R]:
    """Decorate a view (or the function that renders its page) to run in `page_reads()`."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with page_reads():
            return view(*args, **kwargs)

    return wrapper
