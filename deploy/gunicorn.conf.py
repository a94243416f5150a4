"""Gunicorn settings for Otklik's production server (`make serve`, the container).

Gunicorn manages the processes (restarts a dead one, graceful reloads); each process runs
uvicorn's ASGI event loop (uvloop, httptools), which serves HTTP and the websockets of the
chat and live updates. Every value comes from the environment, as in settings.py.
"""

import multiprocessing
import os
import shutil

bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"]  # noqa: S104
# Two processes per core is the usual ASGI figure; at least 2 so one slow request never
# holds the whole server.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
if not os.environ.get("REDIS_URL"):
    # The embedded channel layer and cache live in one process's memory: a chat's visitor
    # and operator on two processes would not see each other live. Without Redis, one.
    workers = 1
worker_class = "uvicorn_worker.UvicornWorker"
# Websockets stay open for hours: a worker is not restarted for being "silent".
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Proxies in front (a load balancer) set X-Forwarded-*; trust them only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app writes its own JSON access line (otklik.ops.middleware)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def on_starting(server) -> None:
    """Start every run with an empty Prometheus multi-process directory."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker) -> None:
    """A dead worker's gauges must not be summed any more."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
