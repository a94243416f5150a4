import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from otklik.common.errors import ServiceError
from otklik.imports.csv_import import import_clients, import_products
from otklik.imports.desk_formats import READERS, ExportUnreadable
from otklik.imports.desk_import import DeskReport, Mapping, import_tickets


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
        "Import from another desk. CSV: `import_desk clients|products FILE` (every line is "
        "validated first; nothing is applied if one is bad). Tickets: `import_desk --format "
        "zammad|zendesk FILE…` (agents and groups mapped first; each ticket whole or refused "
        "with its reasons). Re-running skips what is in; a cut-off run resumes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", *READERS], default="csv")
        parser.add_argument("paths", nargs="+", help="csv: KIND FILE; zammad/zendesk: FILE…")
        parser.add_argument("--batch", type=int, default=200, help="CSV rows per transaction")
        parser.add_argument(
            "--mapping", help='JSON {"agents": {their: our user}, "groups": {their: our team}}'
        )
        parser.add_argument(
            "--allow-unmapped",
            action="store_true",
            help="import even with unmapped agents/groups (no owner/team; names kept in text)",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        progress = None if options["no_progress"] else progress_bar(self.stderr._out)
        if options["format"] == "csv":
            return self._csv(options, progress)
        paths = [Path(p) for p in options["paths"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path} is not a file")
        try:
            export = READERS[options["format"]](paths)
            mapping = Mapping.load(Path(options["mapping"])) if options["mapping"] else None
        except ExportUnreadable as exc:
            raise CommandError(str(exc)) from exc
        except ServiceError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        report = import_tickets(
            export, mapping=mapping, allow_unmapped=options["allow_unmapped"], progress=progress
        )
        self._tickets(report)

    def _tickets(self, report: DeskReport) -> None:
        if report.stopped:
            for label, count in report.unmapped_agents.most_common():
                self.stderr.write(f"unmapped agent: {label} ({count} ticket(s))")
            for name, count in report.unmapped_groups.most_common():
                self.stderr.write(f"unmapped group: {name} ({count} ticket(s))")
            raise CommandError(
                "agents or groups without a match here; nothing was imported. Map them in a "
                "--mapping file (docs/import.md) or pass --allow-unmapped"
            )
        for outcome in report.rejected:
            self.stderr.write(f"ticket {outcome.number}: " + "; ".join(outcome.reasons))
        self.stdout.write(
            f"{report.source}: {report.imported} ticket(s) imported, {report.skipped} already "
            f"there, {len(report.rejected)} refused, of {report.total}; clients "
            f"{report.clients_created} created, {report.clients_matched} matched; "
            f"{report.files} file(s)"
        )
        if report.rejected:
            raise CommandError(f"{len(report.rejected)} ticket(s) refused (see above)")

    def _csv(self, options, progress) -> None:
        if len(options["paths"]) != 2 or options["paths"][0] not in ("clients", "products"):
            raise CommandError("csv: import_desk clients|products FILE")
        kind, path = options["paths"][0], Path(options["paths"][1])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        run = import_clients if kind == "clients" else import_products
        report = run(path, batch=options["batch"], progress=progress)
        if report.errors:
            for error in report.errors:
                self.stderr.write(f"line {error.line}: " + "; ".join(error.errors))
            raise CommandError(
                f"{len(report.errors)} bad line(s) of {report.total}; nothing was imported"
            )
        self.stdout.write(
            f"{kind}: {report.created} imported, {report.skipped} already there, "
            f"{report.total} lines"
        )
