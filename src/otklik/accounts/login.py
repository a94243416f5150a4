"""Staff sign-in rules: throttles per account and per address, and the second factor.

Failed passwords (and failed authenticator codes) are counted per account and per
address in the shared throttle store. After OTKLIK_LOGIN_FAILURES_PER_ACCOUNT failures
the account is locked for OTKLIK_LOGIN_LOCKOUT_SECONDS, after
OTKLIK_LOGIN_FAILURES_PER_ADDRESS failures (over any accounts) the address is; while
locked no password is even checked, and the message says when to try again.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError
from otklik.common.throttle import Lockout, retry_message

log = logging.getLogger(__name__)


def _lockouts() -> tuple[Lockout, Lockout]:
    period = settings.OTKLIK_LOGIN_LOCKOUT_SECONDS
    return (
        Lockout(
            prefix=settings.OTKLIK_LOGIN_THROTTLE_PREFIX,
            namespace="otklik-login",
            limit=settings.OTKLIK_LOGIN_FAILURES_PER_ACCOUNT,
            period_seconds=period,
        ),
        Lockout(
            prefix=settings.OTKLIK_LOGIN_THROTTLE_PREFIX,
            namespace="otklik-login",
            limit=settings.OTKLIK_LOGIN_FAILURES_PER_ADDRESS,
            period_seconds=period,
        ),
    )


class LoginLocked(ServiceError):
    """Too many failed sign-ins for this account or from this address."""


def _account(username: str) -> str:
    return (username or "").strip().casefold()


def _locked_error(until: datetime, now: datetime) -> LoginLocked:
    return LoginLocked(_("Too many failed sign-in attempts.") + " " + retry_message(until, now=now))


def login_check_allowed(*, username: str, ip: str, now: datetime | None = None) -> None:
    """Raise LoginLocked (with the time to retry) while the account or the address is locked."""
    now = now or timezone.now()
    by_account, by_address = _lockouts()
    until = max(
        filter(
            None,
            (
                by_account.locked_until("account", _account(username), now=now),
                by_address.locked_until("address", ip or "-", now=now),
            ),
        ),
        default=None,
    )
    if until is not None:
        raise _locked_error(until, now)


def login_failed(*, username: str, ip: str, now: datetime | None = None) -> None:
    """Count a failed password or code; raise LoginLocked if this failure locked it."""
    now = now or timezone.now()
    by_account, by_address = _lockouts()
    locked = [
        by_account.fail("account", _account(username), now=now),
        by_address.fail("address", ip or "-", now=now),
    ]
    until = max(filter(None, locked), default=None)
    if until is not None:
        log.warning("staff sign-in locked after repeated failures")
        raise _locked_error(until, now)
