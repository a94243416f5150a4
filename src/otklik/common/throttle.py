"""Keyed hashes and fixed-window attempt counters for one-time codes (portal, orders).

Counters live in the cache (local memory embedded, Redis at scale) under keys that hash
the subject (a phone, an IP) with the secret key, so no personal data lands in the cache.
"""

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache


def keyed_hash(namespace: str, *parts: str) -> str:
    """HMAC-SHA256 of the parts under SECRET_KEY; `namespace` keeps uses apart."""
    message = "|".join((namespace, *parts)).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


class AttemptCounter:
    """Counts attempts per (scope, subject) in fixed windows of `window_seconds`."""

    def __init__(self, *, prefix: str, namespace: str, window_seconds: int):
        self.prefix = prefix
        self.namespace = namespace
        self.window_seconds = window_seconds

    def _key(self, scope: str, subject: str) -> str:
        return f"{self.prefix}:{scope}:{keyed_hash(self.namespace, 'throttle', subject)[:32]}"

    def hit(self, scope: str, subject: str) -> int:
        """Add one attempt and return the count in the current window."""
        key = self._key(scope, subject)
        cache.add(key, 0, timeout=self.window_seconds)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.window_seconds)
            return 1

    def peek(self, scope: str, subject: str) -> int:
        """The count in the current window, without adding one."""
        return int(cache.get(self._key(scope, subject)) or 0)
