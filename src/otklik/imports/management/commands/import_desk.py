import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from otklik.imports.csv_import import import_clients, import_products


def progress_bar(stream=sys.stderr, width: int = 30):
    """A one-line text progress bar: [#####.....] 120/400."""

    def show(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


class Command(BaseCommand):
    help = (
        "Import clients or products from another desk's CSV: every line is validated first "
        "(nothing is applied if one is bad); re-running skips what is in; a cut-off run resumes."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["clients", "products"])
        parser.add_argument("file")
        parser.add_argument("--batch", type=int, default=200, help="rows per transaction")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        run = import_clients if options["kind"] == "clients" else import_products
        progress = None if options["no_progress"] else progress_bar(self.stderr._out)
        report = run(path, batch=options["batch"], progress=progress)
        if report.errors:
            for error in report.errors:
                self.stderr.write(f"line {error.line}: " + "; ".join(error.errors))
            raise CommandError(
                f"{len(report.errors)} bad line(s) of {report.total}; nothing was imported"
            )
        self.stdout.write(
            f"{options['kind']}: {report.created} imported, {report.skipped} already there, "
            f"{report.total} lines"
        )
