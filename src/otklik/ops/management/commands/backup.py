from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from otklik.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write a consistent backup of the database (SQLite online backup or pg_dump)."

    def add_arguments(self, parser):
        parser.add_argument("output", help="file to write (overwritten)")

    def handle(self, *args, **options):
        try:
            path = backup(Path(options["output"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup written to {path} ({path.stat().st_size:,} bytes)")
