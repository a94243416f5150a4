"""Django's ASGI handler with long-lived request threads, so database connections persist.

Django's own handler runs each request's synchronous code (middleware, views, the ORM) in
a thread created for that request and joined after it. Database connections belong to a
thread, so every HTTP request on the production server opened a new connection — for
SQLite also a cold page cache and the connection PRAGMAs — and `CONN_MAX_AGE` did nothing.
Measured on API intake over gunicorn + uvicorn: the new connection alone was about a tenth
of the server's time (docs/benchmarks.md, "Requests on long-lived threads").

Here each request runs on one of a few threads that live as long as the process (asgiref's
`ThreadSensitiveContext(executor=…)`); a request goes to the least busy one, so a slow
request does not hold the others while a thread is free. Everything else — request
signals, `close_old_connections`, streaming, disconnects — is Django's code unchanged.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler


class PooledThreadASGIHandler(ASGIHandler):
    """Serve HTTP like Django's handler, on `threads` long-lived threads per process."""

    def __init__(self, threads: int = 4) -> None:
        if threads < 1:
            raise ValueError("an ASGI handler needs at least one request thread")
        super().__init__()
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"otklik-request-{i}")
            for i in range(threads)
        ]
        self.in_flight = [0] * threads

    def pick_thread(self) -> int:
        """The index of the thread with the fewest requests on it (the first on a tie)."""
        return min(range(len(self.executors)), key=self.in_flight.__getitem__)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        index = self.pick_thread()
        self.in_flight[index] += 1
        try:
            async with ThreadSensitiveContext(executor=self.executors[index]):
                await self.handle(scope, receive, send)
        finally:
            self.in_flight[index] -= 1
