"""The one background process: a task worker plus the periodic scans.

`make run` starts it next to the web server. With OTKLIK_TASKS_BACKEND=db it works the
database queue (django-tasks-db's worker); with redis it is an RQ worker; with an
in-process backend (immediate, dummy) it only runs the scans. The scans run in a
thread, the worker in the main thread (both install signal handlers there).
"""

import logging
import os
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.tasks import task_backends
from django.utils.crypto import get_random_string

from otklik.jobs.periodic import Scheduler, run_scans_once

logger = logging.getLogger("otklik.jobs")

# Per-task chatter of the task frameworks, shown only with --verbosity 2.
QUIET_LOGGERS = ("django.tasks", "django_tasks_db", "rq.worker", "rq")


class Command(BaseCommand):
    help = "Run the background worker (task queue + periodic scans such as outbox delivery)."

    def add_arguments(self, parser):
        parser.add_argument("--backend", default="default", help="TASKS alias to work.")
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            help="Seconds between polls of an empty database queue.",
        )
        parser.add_argument(
            "--scan-interval",
            type=float,
            default=1.0,
            help="Seconds between ticks of the periodic scans.",
        )
        parser.add_argument("--no-scans", action="store_true", help="Only work the queue.")
        parser.add_argument("--no-queue", action="store_true", help="Only run the scans.")
        parser.add_argument(
            "--scan-once", action="store_true", help="Run every periodic scan once and exit."
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="Stop when the parent process (e.g. `make run`) is gone.",
        )

    def handle(self, *args, **options):
        if options["scan_once"]:
            for path in run_scans_once():
                self.stdout.write(f"ran {path}")
            return
        configure_logging(options["verbosity"])
        scheduler = None
        if not options["no_scans"]:
            scheduler = Scheduler(tick=options["scan_interval"])
            threading.Thread(target=scheduler.loop, name="periodic-scans", daemon=True).start()
        if options["exit_with_parent"]:
            threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
        try:
            backend = task_backends[options["backend"]]
            if options["no_queue"]:
                _wait_for_signal()
            else:
                _work(backend, options)
        finally:
            if scheduler is not None:
                scheduler.stop()


def configure_logging(verbosity: int) -> None:
    """Our own start-up lines at INFO; the per-task lines only from verbosity 2.

    The scans queue small tasks every second; a line per task would bury the console of
    `make run` (and the demo logins). Failures still show (WARNING and above).
    """
    logging.getLogger("otklik").setLevel(logging.INFO)
    level = logging.INFO if verbosity >= 2 else logging.WARNING
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(level)


def _work(backend, options) -> None:
    from django_tasks_db.backend import DatabaseBackend

    from otklik.jobs.backends import RQBackend

    worker_id = f"{os.uname().nodename}-{os.getpid()}-{get_random_string(6)}"
    if isinstance(backend, DatabaseBackend):
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=sorted(backend.queues),
            interval=options["interval"],
            batch=False,
            backend_name=backend.alias,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        logger.info("Database queue worker %s started", worker_id)
        worker.configure_signals()
        worker.run()
    elif isinstance(backend, RQBackend):
        from rq import SimpleWorker

        # SimpleWorker runs jobs in this process (no fork per job), so Django's
        # connections stay sane; a crash loses only the running job, which the outbox
        # scan re-delivers after its lease.
        worker = SimpleWorker(backend.rq_queues(), connection=backend.connection, name=worker_id)
        logger.info("RQ worker %s started on %s", worker_id, [q.name for q in worker.queues])
        worker.work(
            with_scheduler=False,
            logging_level=logging.getLevelName(logging.getLogger("rq.worker").getEffectiveLevel()),
        )
    else:
        logger.info(
            "Backend %s runs tasks in-process; only periodic scans run here", type(backend).__name__
        )
        _wait_for_signal()


def _wait_for_signal() -> None:
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while not stop.wait(1.0):
        pass


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    logger.info("Parent process %s is gone; stopping the worker", parent_pid)
    os.kill(os.getpid(), signal.SIGTERM)
