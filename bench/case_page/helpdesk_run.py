"""django-helpdesk's ticket page over HTTP, measured like our case page (`run.py`).

Not a test, and not part of Otklik: run it with a separate virtualenv that has
django-helpdesk, gunicorn, uvicorn-worker and daphne (never the project's). It writes a
minimal Django project into `--dir` (settings, URLs), fills a SQLite database there with
`--tickets` tickets in 10 queues, gives a sample of 100 tickets three follow-ups each (a
worked ticket, like the cases `run.py` samples), starts the same kind of server as
`run.py` (gunicorn with one uvicorn worker; `--server daphne`) on 127.0.0.1 and times the
staff ticket page `/helpdesk/tickets/<id>/` with the same stdlib HTTP client
(`http_timing.py`).

    python3.12 -m venv /tmp/helpdesk-venv
    /tmp/helpdesk-venv/bin/pip install django-helpdesk daphne gunicorn uvicorn uvicorn-worker
    /tmp/helpdesk-venv/bin/python bench/case_page/helpdesk_run.py --dir /tmp/helpdesk-bench
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from http_timing import (  # noqa: E402
    SERVERS,
    hand_over,
    measure,
    server_command,
    wait_for_server,
)

SAMPLE = 100
FOLLOWUPS = 3

SETTINGS = """
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "helpdesk-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.humanize", "rest_framework", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "hdbench.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "helpdesk.sqlite3",
    "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
}}
SITE_ID = 1
USE_TZ = True
TIME_ZONE = "Europe/Moscow"
LANGUAGE_CODE = "ru"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
HELPDESK_TEAMS_MODE_ENABLED = False
LOGIN_URL = "/helpdesk/login/"
"""

URLS = """
from django.contrib import admin
from django.urls import include, path
urlpatterns = [path("admin/", admin.site.urls), path("helpdesk/", include("helpdesk.urls"))]
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="/tmp/helpdesk-bench")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--port", type=int, default=8782)
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--server", choices=SERVERS, default="gunicorn")
    parser.add_argument(
        "--serve", action="store_true", help="serve for interleave.py instead of measuring"
    )
    return parser.parse_args()


def write_project(directory: Path) -> None:
    package = directory / "hdbench"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS)
    (package / "urls.py").write_text(URLS)
    (package / "asgi.py").write_text(
        "import os\nfrom django.core.asgi import get_asgi_application\n"
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")\n'
        "application = get_asgi_application()\n"
    )


def prepare(args: argparse.Namespace) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone
    from helpdesk.models import FollowUp, Queue, Ticket

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    staff, _ = user_model.objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "email": "staff@example.com"}
    )
    queues = [
        Queue.objects.get_or_create(slug=f"q{n}", defaults={"title": f"Очередь {n}"})[0]
        for n in range(10)
    ]
    have = Ticket.objects.count()
    rng = random.Random(7)
    now = timezone.now()
    if have < args.tickets:
        print(f"generating {args.tickets - have:,} tickets …", flush=True)
        started = time.perf_counter()
        batch = []
        for n in range(have, args.tickets):
            created = now - timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
            batch.append(
                Ticket(
                    title=f"Вопрос клиента №{n}: не проходит платёж по карте",
                    queue=queues[n % len(queues)],
                    created=created,
                    modified=created,
                    submitter_email=f"client{n}@example.com",
                    status=rng.choice([1, 1, 2, 3, 4]),
                    priority=rng.randrange(1, 6),
                    description="Клиент сообщает, что платёж отклонён. Просит проверить.",
                    assigned_to=staff if n % 7 == 0 else None,
                )
            )
            if len(batch) == 5000:
                Ticket.objects.bulk_create(batch)
                batch = []
        Ticket.objects.bulk_create(batch)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    marker = Path(args.dir) / "sample.json"
    if marker.exists():
        sample = json.loads(marker.read_text())
    else:
        ids = list(Ticket.objects.values_list("pk", flat=True))
        sample = sorted(rng.sample(ids, SAMPLE))
        for pk in sample:
            ticket = Ticket.objects.get(pk=pk)
            for k in range(FOLLOWUPS):
                FollowUp.objects.create(
                    ticket=ticket,
                    title="Комментарий",
                    comment="Проверили операцию, ответ подготовим сегодня.",
                    public=k % 2 == 0,
                    user=staff,
                    date=now - timedelta(hours=FOLLOWUPS - k),
                )
        marker.write_text(json.dumps(sample))
    return {"staff": staff, "sample": sample, "tickets": Ticket.objects.count()}


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def main() -> None:
    args = parse_args()
    directory = Path(args.dir).resolve()
    write_project(directory)
    sys.path.insert(0, str(directory))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hdbench.settings"
    import django

    django.setup()
    data = prepare(args)
    if args.prepare_only:
        return
    cookie = session_cookie(data["staff"])
    paths = [f"/helpdesk/tickets/{pk}/" for pk in data["sample"]]
    env = {**os.environ, "PYTHONPATH": str(directory)}
    command = server_command(args.server, "hdbench.asgi:application", args.port)
    server = subprocess.Popen(
        command,
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_server(args.port, paths[0], cookie)
        if args.serve:
            hand_over(args.port, cookie, {"ticket_page": paths})
            return
        import helpdesk

        results = {
            "label": "django-helpdesk",
            "version": getattr(helpdesk, "__version__", "?"),
            "django": django.get_version(),
            "server": f"{args.server} (1 process, uvicorn worker)"
            if args.server == "gunicorn"
            else "daphne (1 process)",
            "database": "SQLite",
            "tickets": data["tickets"],
            "ticket_page": measure(args.port, paths, cookie, args.requests),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    (ROOT / "var/bench").mkdir(parents=True, exist_ok=True)
    out = ROOT / f"var/bench/case-page-helpdesk-{args.server}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
