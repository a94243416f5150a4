"""Configuration generations: cheap, exact cross-process invalidation of in-memory caches.

`bump(name)` runs in the transaction that changed the configuration, so other processes
see the new token exactly when they can see the new rows. `current(name)` is one
primary-key read without the ORM's query building (it runs on every case intake).
`Cached` holds what a loader built until the token changes; `bump_on_change` wires the
signals that bump it.
"""

import secrets
from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save


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


class Cached[T]:
    """The value `load()` built, reloaded whenever generation `name` has a new token."""

    def __init__(self, name: str, load: Callable[[], T]):
        self.name = name
        self.load = load
        self._entry: tuple[int | None, T] | None = None

    def get(self) -> T:
        token = current(self.name)
        entry = self._entry
        if entry is None or entry[0] != token:
            entry = self._entry = (token, self.load())
        return entry[1]


def bump_on_change(
    name: str, models: Iterable[type[Model]], through: Iterable[type[Model]] = ()
) -> None:
    """Bump `name` whenever one of `models` is saved or deleted, or a many-to-many
    relation through one of `through` changes."""

    def changed(**kwargs) -> None:
        bump(name)

    # weak=False: `changed` lives only in this closure.
    for model in models:
        for signal, what in ((post_save, "save"), (post_delete, "delete")):
            signal.connect(
                changed, sender=model, weak=False, dispatch_uid=f"{name}-{what}-{model.__name__}"
            )
    for model in through:
        m2m_changed.connect(
            changed, sender=model, weak=False, dispatch_uid=f"{name}-m2m-{model.__name__}"
        )
