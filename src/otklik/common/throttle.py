"""Keyed hashes, one-time codes and throttles shared by every process.

Throttle counters live in a store all processes share, in every configuration: Redis
when `OTKLIK_THROTTLE_STORE` is "redis" (the default with REDIS_URL), otherwise a table in
the main database (`common.ThrottleCounter`). A per-process memory would multiply every
limit by the number of workers. Keys hash the subject (a phone, an IP, a username) with
the secret key, so no personal data lands in the store.

Two shapes of limit:

* `AttemptCounter`: at most N attempts per fixed window (aligned to the clock, so the
  end of the window, the time to retry, is known);
* `Pacing`: a few free attempts, then each next one only after a delay that doubles
  (proportionate: one extra request costs seconds, a flood costs minutes).
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from otklik.common.errors import ServiceError


def keyed_hash(namespace: str, *parts: str) -> str:
    """HMAC-SHA256 of the parts under SECRET_KEY; `namespace` keeps uses apart."""
    message = "|".join((namespace, *parts)).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def one_time_code() -> str:
    """Six random digits (login and signing codes); one place, so tests can pin it."""
    return f"{secrets.randbelow(10**6):06d}"


# --- the shared store ---------------------------------------------------------------------


class _DatabaseStore:
    """Counters in `common.ThrottleCounter`: one conditional UPDATE per hit, atomic."""

    def incr(self, key: str, *, now: datetime, expires_at: datetime) -> int:
        from otklik.common.models import ThrottleCounter

        for _attempt in range(5):
            with transaction.atomic():
                live = ThrottleCounter.objects.filter(key=key, expires_at__gt=now)
                if live.update(value=F("value") + 1) == 1:
                    return live.values_list("value", flat=True).first() or 1
                # Absent or expired: restart it at 1, unless another process just did.
                if (
                    ThrottleCounter.objects.filter(key=key, expires_at__lte=now).update(
                        value=1, expires_at=expires_at
                    )
                    == 1
                ):
                    return 1
                try:
                    with transaction.atomic():
                        ThrottleCounter.objects.create(key=key, value=1, expires_at=expires_at)
                    return 1
                except IntegrityError:
                    continue  # created concurrently: count on it in the next round
        raise RuntimeError(f"throttle counter {key} kept changing under us")

    def get(self, key: str, *, now: datetime) -> int:
        from otklik.common.models import ThrottleCounter

        value = (
            ThrottleCounter.objects.filter(key=key, expires_at__gt=now)
            .values_list("value", flat=True)
            .first()
        )
        return int(value or 0)

    def put(self, key: str, value: int, *, now: datetime, expires_at: datetime) -> None:
        from otklik.common.models import ThrottleCounter

        ThrottleCounter.objects.update_or_create(
            key=key, defaults={"value": value, "expires_at": expires_at}
        )

    def prune(self, *, now: datetime) -> int:
        from otklik.common.models import ThrottleCounter

        return ThrottleCounter.objects.filter(expires_at__lte=now).delete()[0]


class _RedisStore:
    """Counters in Redis: INCR + EXPIREAT in one MULTI, atomic across processes."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)

    def _k(self, key: str) -> str:
        return f"otklik:throttle:{key}"

    def incr(self, key: str, *, now: datetime, expires_at: datetime) -> int:
        pipe = self.client.pipeline()
        pipe.incr(self._k(key))
        pipe.expireat(self._k(key), math.ceil(expires_at.timestamp()), nx=True)
        value, _set = pipe.execute()
        return int(value)

    def get(self, key: str, *, now: datetime) -> int:
        return int(self.client.get(self._k(key)) or 0)

    def put(self, key: str, value: int, *, now: datetime, expires_at: datetime) -> None:
        seconds = max(math.ceil((expires_at - now).total_seconds()), 1)
        self.client.set(self._k(key), value, ex=seconds)

    def prune(self, *, now: datetime) -> int:
        return 0  # Redis expires keys itself


_stores: dict[tuple[str, str], object] = {}


def store():
    """The configured shared store (one per process and configuration)."""
    kind = settings.OTKLIK_THROTTLE_STORE
    url = settings.REDIS_URL if kind == "redis" else ""
    found = _stores.get((kind, url))
    if found is None:
        found = _RedisStore(url) if kind == "redis" else _DatabaseStore()
        _stores[(kind, url)] = found
    return found


def prune_expired(now: datetime | None = None) -> int:
    """Delete expired counters (periodic scan; Redis needs none)."""
    return store().prune(now=now or timezone.now())


# --- limits -------------------------------------------------------------------------------


def retry_message(retry_at: datetime, *, now: datetime | None = None) -> str:
    """ "Try again in 3 minutes (after 10:42)." in the active language, local time."""
    now = now or timezone.now()
    seconds = max(math.ceil((retry_at - now).total_seconds()), 1)
    at = time_format(timezone.localtime(retry_at), "H:i:s" if seconds < 120 else "H:i")
    if seconds < 120:
        wait = ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    else:
        minutes = max(1, round(seconds / 60))
        wait = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return _("Try again in %(wait)s (after %(time)s).") % {"wait": wait, "time": at}


@dataclass
class Verdict:
    """The outcome of one hit: the count so far and, when over the limit, when to retry."""

    count: int
    retry_at: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.retry_at is None


class AttemptCounter:
    """Counts attempts per (scope, subject) in fixed windows of `window_seconds`.

    Windows are aligned to the clock (key = window number), so the end of the current
    window, when a throttled caller may try again, is known without a read.
    """

    def __init__(self, *, prefix: str, namespace: str, window_seconds: int):
        self.prefix = prefix
        self.namespace = namespace
        self.window_seconds = window_seconds

    def _window(self, now: datetime) -> tuple[int, datetime]:
        number = int(now.timestamp()) // self.window_seconds
        return number, datetime.fromtimestamp((number + 1) * self.window_seconds, tz=UTC)

    def _key(self, scope: str, subject: str, number: int) -> str:
        digest = keyed_hash(self.namespace, "throttle", subject)[:32]
        return f"{self.prefix}:{scope}:{digest}:{number}"

    def hit(self, scope: str, subject: str, *, now: datetime | None = None) -> int:
        """Add one attempt and return the count in the current window."""
        now = now or timezone.now()
        number, end = self._window(now)
        return store().incr(self._key(scope, subject, number), now=now, expires_at=end)

    def peek(self, scope: str, subject: str, *, now: datetime | None = None) -> int:
        """The count in the current window, without adding one."""
        now = now or timezone.now()
        number, _end = self._window(now)
        return store().get(self._key(scope, subject, number), now=now)

    def window_end(self, *, now: datetime | None = None) -> datetime:
        """When the current window ends: the time a throttled caller may retry."""
        return self._window(now or timezone.now())[1]

    def check(self, scope: str, subject: str, limit: int, *, now: datetime | None = None):
        """Hit and judge: over `limit` attempts in this window → retry at the window end."""
        now = now or timezone.now()
        count = self.hit(scope, subject, now=now)
        return Verdict(count, self.window_end(now=now) if count > limit else None)


class Pacing:
    """A few free attempts, then a delay that doubles with each further attempt.

    `free` attempts pass at once; attempt free+k must come at least
    `base_seconds` × 2^(k-1) (capped at `max_seconds`) after the previous one. The count
    is forgotten after `reset_seconds` without attempts. A refused attempt does not count.
    """

    def __init__(
        self,
        *,
        prefix: str,
        namespace: str,
        free: int,
        base_seconds: int,
        max_seconds: int,
        reset_seconds: int,
    ):
        self.prefix = prefix
        self.namespace = namespace
        self.free = free
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.reset_seconds = reset_seconds

    def _key(self, kind: str, scope: str, subject: str) -> str:
        digest = keyed_hash(self.namespace, "pacing", subject)[:32]
        return f"{self.prefix}:{scope}:{kind}:{digest}"

    def delay_after(self, count: int) -> int:
        """Seconds to wait after the `count`-th attempt before the next one."""
        extra = count - self.free + 1
        if extra <= 0:
            return 0
        return min(self.base_seconds * 2 ** (extra - 1), self.max_seconds)

    def check(self, scope: str, subject: str, *, now: datetime | None = None) -> Verdict:
        """Refuse (with the time to retry) while a delay runs; otherwise count the attempt."""
        now = now or timezone.now()
        s = store()
        next_at = s.get(self._key("next", scope, subject), now=now)
        if next_at and now.timestamp() < next_at:
            return Verdict(0, datetime.fromtimestamp(next_at, tz=UTC))
        count = s.incr(
            self._key("count", scope, subject),
            now=now,
            expires_at=now + timedelta(seconds=self.reset_seconds),
        )
        delay = self.delay_after(count)
        if delay:
            s.put(
                self._key("next", scope, subject),
                math.ceil(now.timestamp() + delay),
                now=now,
                expires_at=now + timedelta(seconds=delay + 1),
            )
        return Verdict(count)


class Lockout:
    """Lock a subject for `period_seconds` once it failed `limit` times within that period.

    The failure count starts with the first failure and is forgotten `period_seconds`
    later; reaching the limit sets a lock that ends `period_seconds` after the last
    failure. Checking does not count; only `fail` does.
    """

    def __init__(self, *, prefix: str, namespace: str, limit: int, period_seconds: int):
        self.prefix = prefix
        self.namespace = namespace
        self.limit = limit
        self.period_seconds = period_seconds

    def _key(self, kind: str, scope: str, subject: str) -> str:
        digest = keyed_hash(self.namespace, "lockout", subject)[:32]
        return f"{self.prefix}:{scope}:{kind}:{digest}"

    def locked_until(
        self, scope: str, subject: str, *, now: datetime | None = None
    ) -> datetime | None:
        now = now or timezone.now()
        until = store().get(self._key("until", scope, subject), now=now)
        if until and now.timestamp() < until:
            return datetime.fromtimestamp(until, tz=UTC)
        return None

    def fail(self, scope: str, subject: str, *, now: datetime | None = None) -> datetime | None:
        """Count a failure; returns the end of the lock if this failure reached the limit."""
        now = now or timezone.now()
        period = timedelta(seconds=self.period_seconds)
        s = store()
        count = s.incr(self._key("count", scope, subject), now=now, expires_at=now + period)
        if count < self.limit:
            return None
        until = now + period
        s.put(
            self._key("until", scope, subject),
            math.ceil(until.timestamp()),
            now=now,
            expires_at=until + timedelta(seconds=1),
        )
        return until


class Throttled(ServiceError):
    """Too many requests (codes, wrong codes) for a key; try again at `retry_at`."""

    def __init__(self, message, *, retry_at: datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at
