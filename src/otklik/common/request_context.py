"""The request id (and user id) of the work being done now, for logs and the jobs it starts.

A context variable, so it follows the request through threads and async code (asgiref
copies the context), and a job enqueued while handling a request can carry it along.
It lives in `common` so every layer (the jobs backends included) may read it.
"""

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("otklik_request_id", default="")
user_id_var: ContextVar[int | None] = ContextVar("otklik_user_id", default=None)

# An id from the load balancer is reused if it looks like one (letters, digits, "-", "_",
# ".", ":"; up to 64), so one request can be followed across proxies; anything else is
# replaced by a fresh one rather than copied into the logs.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id(incoming: str | None = None) -> str:
    """The id to use for a request: the incoming one if well-formed, else a random one."""
    if incoming and _VALID_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str:
    return request_id_var.get()
