"""`manage.py retention [--dry-run]`: anonymise or delete what is past its retention term."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from otklik.retention.policy import LABELS
from otklik.retention.services import retention_run


class Command(BaseCommand):
    help = (
        "Anonymise or delete personal data past its retention term (docs/retention.md); "
        "--dry-run only counts what would be done."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count per class; change nothing."
        )
        parser.add_argument("--batch-size", type=int, help="Rows per transaction.")
        parser.add_argument(
            "--max-batches",
            type=int,
            help="Stop after this many batches; a later run goes on from there.",
        )

    def handle(self, *args, dry_run: bool, batch_size: int | None, max_batches: int | None, **kw):
        for name, value in (("--batch-size", batch_size), ("--max-batches", max_batches)):
            if value is not None and value < 1:
                raise CommandError(f"{name} must be at least 1")
        run = retention_run(dry_run=dry_run, batch_size=batch_size, max_batches=max_batches)
        verb = ("would anonymise", "would delete") if dry_run else ("anonymised", "deleted")
        self.stdout.write(
            f"{'Dry run: nothing changed.' if dry_run else 'Retention run'} "
            f"(run {run.pk}, {run.started_at:%Y-%m-%d %H:%M} UTC)"
        )
        self.stdout.write(f"{'class':<18}{'days':>6}  {verb[0]:>16}  {verb[1]:>14}  {'files':>6}")
        for name, c in run.counts.items():
            self.stdout.write(
                f"{name:<18}{c['days']:>6}  {c['anonymised']:>16}  {c['deleted']:>14}  "
                f"{'-' if dry_run else c['files']:>6}  {LABELS[name]}"
            )
        if not run.complete:
            self.stdout.write(self.style.WARNING("Stopped at --max-batches; run again to go on."))
