"""Which data classes retention knows, in which order they run, and their terms.

Terms come from `settings.OTKLIK_RETENTION_DAYS` (environment, see settings.py); the
defaults and the reasons for them are in docs/retention.md.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Anonymising classes first (a chat or call freed of its client lets the client go in the
# same run), the client records after the cases and surveys, then the plain deletions.
CLASS_ORDER = (
    "chats",
    "interactions",
    "attachments",
    "closed_cases",
    "surveys",
    "clients",
    "outbox",
    "backoffice_calls",
    "one_time_codes",
    "sessions",
    "live_events",
    "audit",
)

LABELS = {
    "chats": _("Closed chats: transcripts, files, client link"),
    "interactions": _("Call and contact summaries"),
    "surveys": _("NPS survey answers"),
    "attachments": _("Handoff and chat files"),
    "closed_cases": _("Closed cases"),
    "clients": _("Client records nothing refers to"),
    "outbox": _("Sent and abandoned notifications"),
    "backoffice_calls": _("Finished back-office calls"),
    "one_time_codes": _("Expired login and signing codes"),
    "sessions": _("Expired sessions"),
    "live_events": _("Live workspace events"),
    "audit": _("Audit records"),
}

# The access log must outlive the questions asked about it ("who read my data last
# year?"): a shorter term is a configuration error, not a choice.
MIN_DAYS = {"audit": 365}


@dataclass(frozen=True)
class Term:
    name: str
    days: int
    cutoff: datetime  # records older than this are due


def configuration_errors() -> list[str]:
    """What is wrong with the retention settings (empty when they are usable)."""
    days = settings.OTKLIK_RETENTION_DAYS
    errors = [f"unknown retention class {name!r}" for name in days if name not in CLASS_ORDER]
    errors += [f"no retention term for {name!r}" for name in CLASS_ORDER if name not in days]
    errors += [
        f"unknown retention class {name!r} in OTKLIK_RETENTION_DISABLED"
        for name in settings.OTKLIK_RETENTION_DISABLED
        if name not in CLASS_ORDER
    ]
    for name, value in days.items():
        if not isinstance(value, int) or value < 1:
            errors.append(f"retention term of {name!r} must be a whole number of days ≥ 1")
        elif value < MIN_DAYS.get(name, 1):
            errors.append(f"retention term of {name!r} must be at least {MIN_DAYS[name]} days")
    if settings.OTKLIK_RETENTION_BATCH_SIZE < 1:
        errors.append("OTKLIK_RETENTION_BATCH_SIZE must be ≥ 1")
    return errors


def active_terms(now: datetime) -> list[Term]:
    """The enabled classes in run order, each with its cutoff; refuses a bad configuration."""
    errors = configuration_errors()
    if errors:
        raise ImproperlyConfigured("; ".join(errors))
    disabled = set(settings.OTKLIK_RETENTION_DISABLED)
    return [
        Term(name=name, days=days, cutoff=now - timedelta(days=days))
        for name in CLASS_ORDER
        if name not in disabled
        for days in [settings.OTKLIK_RETENTION_DAYS[name]]
    ]
