"""`manage.py analytics_rebuild`: recompute the hourly rollups from the raw rows."""

from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from otklik.analytics import rollups


def _day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name} must be a date, YYYY-MM-DD (got {value!r})") from None
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class Command(BaseCommand):
    help = (
        "Recompute the analytics rollups day by day (all history by default, or --since/--until "
        "local dates) and move the scan's watermark to now. Safe to run while the worker runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first local day to recompute (YYYY-MM-DD)")
        parser.add_argument("--until", help="local day to stop before (YYYY-MM-DD)")

    def handle(self, *args, since=None, until=None, **options):
        start, end = _day(since, "since"), _day(until, "until")
        if start and end and end <= start:
            raise CommandError("--until must be after --since")
        started = timezone.now()
        written = rollups.rebuild(since=start, until=end)
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(self.style.SUCCESS(f"{written:,} rollup rows written in {seconds:.1f} s"))
