"""`manage.py load_demo`: the story clients, their cases and the staff, ready to click."""

import os

from django.core.management.base import BaseCommand

from otklik.demo.reference import DEPARTMENTS
from otklik.demo.services import DemoResult, demo_load


def format_logins(result: DemoResult) -> str:
    """The logins as a plain table, plus the API token and an example call."""
    rows = [("role", "login", "password", "who")]
    for spec in result.logins:
        where = spec.team or DEPARTMENTS.get(spec.department, "")
        who = f"{spec.first_name} {spec.last_name}" + (f" — {where}" if where else "")
        rows.append((str(spec.role), spec.login, spec.password, who))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 20)
    lines += [
        "",
        f"API token of «operator»: {result.token}",
        f'  curl -H "Authorization: Bearer {result.token}" '
        f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/api/cases?scope=team",
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Load the demo (story clients, cases, staff logins); safe to run again."

    def handle(self, *args, **options):
        result = demo_load()
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(f"Demo loaded: {result.clients} clients, {result.cases} cases.")
            )
        else:
            self.stdout.write("The demo is already loaded; nothing changed.")
        self.stdout.write("")
        self.stdout.write(format_logins(result))
