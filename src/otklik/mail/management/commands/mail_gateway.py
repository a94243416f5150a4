"""Run the SMTP (or LMTP) receiver for the mail gateway: `manage.py mail_gateway`."""

import signal
import threading

from django.core.management.base import BaseCommand

from otklik.mail.gateway import gateway


class Command(BaseCommand):
    help = "Receive client e-mail over SMTP or LMTP from the site's mail gateway."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")

    def handle(self, *args, host: str, port: int, lmtp: bool, **options):
        controller = gateway(host, port, lmtp=lmtp)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        controller.start()
        kind = "LMTP" if lmtp else "SMTP"
        self.stdout.write(f"{kind} receiver on {host}:{port}")
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
