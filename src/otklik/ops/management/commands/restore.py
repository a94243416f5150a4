from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from otklik.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database's contents with a backup. Stop the app and workers first."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a file written by `manage.py backup`")
        parser.add_argument(
            "--yes", action="store_true", help="confirm: the current contents are replaced"
        )

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError("restore replaces the whole database; add --yes to confirm")
        try:
            restore(Path(options["source"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored from {options['source']}")
