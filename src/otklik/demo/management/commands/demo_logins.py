"""`manage.py demo_logins` (`make logins`): the demo's logins again, whenever they are needed."""

from django.core.management.base import BaseCommand

from otklik.demo.management.commands.load_demo import format_logins
from otklik.demo.services import demo_is_loaded, demo_load


class Command(BaseCommand):
    help = "Print the demo's staff logins, passwords and API token (the demo must be loaded)."

    def handle(self, *args, **options):
        if not demo_is_loaded():
            self.stdout.write("The demo is not loaded: run `make run` or `manage.py load_demo`.")
            return
        self.stdout.write("Demo logins (again: `make logins`):")
        self.stdout.write(format_logins(demo_load()))
