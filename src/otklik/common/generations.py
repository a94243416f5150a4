"""Configuration generations: cheap, exact cross-process invalidation of in-memory caches.

`bump(name)` runs in the transaction that changed the configuration, so other processes
see the new token exactly when they can see the new rows. `current(name)` is one
primary-key read without the ORM's query building (it runs on every case intake).
"""

import secrets

from django.db import connection


def current(name: str) -> int | None:
    """The token of `name` as this connection sees it (None until the first bump)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM common_generation WHERE name = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else None


def bump(name: str) -> int:
    """Give `name` a new random token (within the caller's transaction, if any)."""
    from otklik.common.models import Generation

    token = secrets.randbits(62)
    Generation.objects.update_or_create(name=name, defaults={"token": token})
    return token
