"""Who has a page open right now: entries that live only as long as their heartbeats.

Each open tab is a member of a scope ("case:7", "client:3") with an expiry a few seconds
ahead; the tab's socket refreshes it on every heartbeat the browser answers. A closed tab
leaves at once (the socket's disconnect), a lost network or a killed server process
leaves by expiry: nothing has to notice, the entry simply stops being listed.

Two stores with one interface: Redis (when REDIS_URL is set; every app process sees the
same entries) and process memory (the embedded default, one process).
"""

import json
import threading
import time
from typing import Protocol

from django.conf import settings

#: Seconds an entry lives without a heartbeat. The server asks for a heartbeat every
#: HEARTBEAT seconds, so a vanished tab is gone from every list within TTL + HEARTBEAT.
TTL = 6.0
HEARTBEAT = 2.0


class PresenceStore(Protocol):
    def touch(self, scope: str, member: str, info: dict, ttl: float = TTL) -> None: ...
    def leave(self, scope: str, member: str) -> None: ...
    def members(self, scope: str) -> dict[str, dict]: ...
    def clear(self) -> None: ...


class MemoryPresenceStore:
    """One process's entries (the embedded default: one process serves pages and sockets)."""

    def __init__(self) -> None:
        self._scopes: dict[str, dict[str, tuple[float, dict]]] = {}
        self._lock = threading.Lock()

    def touch(self, scope: str, member: str, info: dict, ttl: float = TTL) -> None:
        with self._lock:
            self._scopes.setdefault(scope, {})[member] = (time.time() + ttl, dict(info))

    def leave(self, scope: str, member: str) -> None:
        with self._lock:
            entries = self._scopes.get(scope)
            if entries is not None:
                entries.pop(member, None)
                if not entries:
                    del self._scopes[scope]

    def members(self, scope: str) -> dict[str, dict]:
        now = time.time()
        with self._lock:
            entries = self._scopes.get(scope) or {}
            alive = {m: dict(info) for m, (exp, info) in entries.items() if exp > now}
            if len(alive) != len(entries):
                if alive:
                    self._scopes[scope] = {m: entries[m] for m in alive}
                else:
                    self._scopes.pop(scope, None)
            return alive

    def clear(self) -> None:
        with self._lock:
            self._scopes.clear()


class RedisPresenceStore:
    """Entries in Redis: a sorted set of members by expiry and a hash of their details per
    scope; both keys expire on their own when a scope is abandoned."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def _keys(self, scope: str) -> tuple[str, str]:
        base = f"{self.prefix}:{scope}"
        return f"{base}:exp", f"{base}:info"

    def touch(self, scope: str, member: str, info: dict, ttl: float = TTL) -> None:
        exp, details = self._keys(scope)
        keep = int(ttl * 4) + 1
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(exp, {member: time.time() + ttl})
        pipe.hset(details, member, json.dumps(info))
        pipe.expire(exp, keep)
        pipe.expire(details, keep)
        pipe.execute()

    def leave(self, scope: str, member: str) -> None:
        exp, details = self._keys(scope)
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrem(exp, member)
        pipe.hdel(details, member)
        pipe.execute()

    def members(self, scope: str) -> dict[str, dict]:
        exp, details = self._keys(scope)
        now = time.time()
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrangebyscore(exp, "-inf", now)
        pipe.zrangebyscore(exp, now, "+inf")
        expired, alive = pipe.execute()
        if expired:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zremrangebyscore(exp, "-inf", now)
            pipe.hdel(details, *expired)
            pipe.execute()
        if not alive:
            return {}
        result: dict[str, dict] = {}
        for member, raw in zip(alive, self._redis.hmget(details, alive), strict=True):
            if raw is None:
                continue
            try:
                result[member.decode()] = json.loads(raw)
            except ValueError:
                continue
        return result

    def clear(self) -> None:
        keys = list(self._redis.scan_iter(match=f"{self.prefix}:*", count=500))
        if keys:
            self._redis.delete(*keys)


_store: PresenceStore | None = None
_store_lock = threading.Lock()


def get_store() -> PresenceStore:
    """The process's store: Redis when REDIS_URL is set, process memory otherwise."""
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                url = getattr(settings, "REDIS_URL", "")
                prefix = getattr(settings, "OTKLIK_PRESENCE_PREFIX", "otklik:presence")
                _store = RedisPresenceStore(url, prefix) if url else MemoryPresenceStore()
    return _store


def reset_store() -> None:
    """Forget the store object (tests switch settings between runs)."""
    global _store
    with _store_lock:
        _store = None
