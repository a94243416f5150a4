"""Whose clock a time is shown on: the person's own time zone, else the site's.

Staff and clients may live eleven time zones apart (Kaliningrad to Kamchatka). Each has an
optional `time_zone`; pages are rendered in the viewer's zone (`TimeZoneMiddleware`),
texts sent to someone (e-mail, SMS) are composed in the recipient's zone (`in_zone_of`).
An empty or unknown zone falls back to `settings.TIME_ZONE` (Moscow by default), never UTC.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The session key under which the portal keeps its client's zone (set at portal login).
SESSION_TIME_ZONE = "otklik_time_zone"

# Russia's zones, west to east; empty means "the site's zone".
TIME_ZONE_CHOICES = [
    ("", _("Site time zone")),
    ("Europe/Kaliningrad", _("Kaliningrad (UTC+2)")),
    ("Europe/Moscow", _("Moscow (UTC+3)")),
    ("Europe/Samara", _("Samara (UTC+4)")),
    ("Asia/Yekaterinburg", _("Yekaterinburg (UTC+5)")),
    ("Asia/Omsk", _("Omsk (UTC+6)")),
    ("Asia/Novosibirsk", _("Novosibirsk (UTC+7)")),
    ("Asia/Krasnoyarsk", _("Krasnoyarsk (UTC+7)")),
    ("Asia/Irkutsk", _("Irkutsk (UTC+8)")),
    ("Asia/Yakutsk", _("Yakutsk (UTC+9)")),
    ("Asia/Vladivostok", _("Vladivostok (UTC+10)")),
    ("Asia/Magadan", _("Magadan (UTC+11)")),
    ("Asia/Kamchatka", _("Kamchatka (UTC+12)")),
]


def zone(name: str | None) -> ZoneInfo:
    """The zone called `name`, or the site's zone when it is empty or unknown."""
    for candidate in (name, settings.TIME_ZONE):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("Europe/Moscow")


def zone_of(person: object) -> ZoneInfo:
    """The zone of a staff user or a client (anything with a `time_zone`), else the site's."""
    return zone(getattr(person, "time_zone", "") or "")


@contextmanager
def in_zone_of(person: object) -> Iterator[ZoneInfo]:
    """Compose a text for `person` on their clock: `localtime()` and `|date` use their zone."""
    tz = zone_of(person)
    with timezone.override(tz):
        yield tz
