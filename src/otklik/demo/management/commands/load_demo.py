"""`manage.py load_demo`: the story clients, their cases and the staff, ready to click.

Development only (DEBUG=1, as `make run` sets it). Forced elsewhere (`--force` or
OTKLIK_DEMO_FORCE=1), the demo accounts get random passwords, printed once.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from otklik.common.env import env_bool
from otklik.demo.reference import DEPARTMENTS
from otklik.demo.services import DemoRefused, DemoResult, demo_load

NOT_SHOWN = "(set earlier, not shown again)"


def format_logins(result: DemoResult) -> str:
    """The logins as a plain table, plus the API token and an example call."""
    rows = [("role", "login", "password", "who")]
    for spec in result.logins:
        where = spec.team or DEPARTMENTS.get(spec.department, "")
        who = f"{spec.first_name} {spec.last_name}" + (f" — {where}" if where else "")
        rows.append((str(spec.role), spec.login, spec.password or NOT_SHOWN, who))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 20)
    if not result.token:
        return "\n".join([*lines, "", f"API token of «operator»: {NOT_SHOWN}"])
    lines += [
        "",
        f"API token of «operator»: {result.token}",
        f'  curl -H "Authorization: Bearer {result.token}" '
        f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/api/cases?scope=team",
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Load the demo (story clients, cases, staff logins); safe to run again. "
        "Development (DEBUG=1) only, unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="load outside development too; the demo accounts get random passwords "
            "(also: OTKLIK_DEMO_FORCE=1)",
        )

    def handle(self, *args, force: bool, **options):
        force = force or env_bool("OTKLIK_DEMO_FORCE", False)
        try:
            result = demo_load(force=force)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(f"Demo loaded: {result.clients} clients, {result.cases} cases.")
            )
        else:
            self.stdout.write("The demo is already loaded; nothing changed.")
        if not settings.DEBUG:
            self.stdout.write(
                self.style.WARNING(
                    "Production mode: the demo accounts have random passwords, shown only "
                    "now. Write them down or reset them in the admin."
                )
            )
        self.stdout.write("")
        self.stdout.write(format_logins(result))
