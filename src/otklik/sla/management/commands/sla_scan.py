"""Run the SLA breach scan: once (until nothing is due) or every --interval seconds."""

import time

from django.core.management.base import BaseCommand

from otklik.sla.services import scan_deadlines


class Command(BaseCommand):
    help = "Warn about and breach due SLA deadlines (each at most once, safe to restart)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Drain what is due, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between scans.")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, once: bool, interval: float, batch: int, verbosity: int, **options):
        while True:
            result = scan_deadlines(batch=batch)
            if verbosity >= 2:
                for deadline_id in result.breached:
                    self.stdout.write(f"breached {deadline_id}")
                for deadline_id in result.warned:
                    self.stdout.write(f"warned {deadline_id}")
                self.stdout.flush()
            if result.more:
                continue
            if once:
                return
            time.sleep(interval)
