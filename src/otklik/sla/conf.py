"""SLA defaults, overridable in settings (all optional)."""

from django.conf import settings


def default_minutes(kind: str) -> int:
    """Target when no policy sets this kind: settings.SLA_DEFAULT_MINUTES[kind] or built-in."""
    built_in = {
        "first_response": 4 * 60,
        "resolution": getattr(settings, "CASE_DEFAULT_RESOLUTION_HOURS", 72) * 60,
        "handoff_answer": 8 * 60,
        "portal_answer": 24 * 60,
    }
    return int(getattr(settings, "SLA_DEFAULT_MINUTES", {}).get(kind, built_in[kind]))


def warn_before_percent() -> int:
    return int(getattr(settings, "SLA_WARN_BEFORE_PERCENT", 20))


def fallback_timezone() -> str:
    """Time zone of the wall-clock calendar used when no calendar is configured."""
    return getattr(settings, "TIME_ZONE", None) or "Europe/Moscow"


def live_channels() -> tuple[str, ...]:
    """Channels where the contact itself is the first response (no first-response clock)."""
    return tuple(getattr(settings, "SLA_LIVE_CHANNELS", ("phone", "office")))
