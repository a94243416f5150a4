"""Otklik settings: one module, configured from environment variables.

Embedded defaults (SQLite, in-memory channel layer, local-memory cache) let the app run
with nothing else installed; `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and
Redis at scale.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from otklik.common.env import env_bool, env_int, env_list, env_str
from otklik.common.secrets import ensure_install_secrets, read_secret

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(env_str("OTKLIK_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# --- Secrets (security review, issue 10 finding 3) -------------------------------------
# Each secret has its own setting, read from NAME, from the file NAME_FILE names, or from
# this installation's var/<file> (otklik.common.secrets). None is derived from another,
# and there is no built-in fallback: outside development (DEBUG=1) a missing secret stops
# the process at start-up. In development the per-install files are created on first use
# (`make run` creates them too), random and readable only by their owner.
if DEBUG:
    ensure_install_secrets(var_dir=VAR_DIR)
SECRET_KEY = read_secret("SECRET_KEY", var_dir=VAR_DIR)
# Signs the calls to the back office (HMAC-SHA256; see otklik.actions.backoffice).
OTKLIK_BACKOFFICE_SECRET = read_secret("OTKLIK_BACKOFFICE_SECRET", var_dir=VAR_DIR)
# The demo operator's API token that `load_demo` prints; empty: a random one, shown once.
OTKLIK_DEMO_API_TOKEN = read_secret("OTKLIK_DEMO_API_TOKEN", var_dir=VAR_DIR)
# Messages carrying a one-time code keep their full text only encrypted with this key
# (Fernet; any string, hashed to a key) until delivered or expired, then erase it; the
# stored `body` shows the code masked. The same value on every web and worker machine.
OTKLIK_OUTBOX_SECRET_KEY = read_secret("OTKLIK_OUTBOX_SECRET_KEY", var_dir=VAR_DIR)
# Staff authenticators' (TOTP) secrets are stored encrypted with this key.
OTKLIK_TOTP_SECRET_KEY = read_secret("OTKLIK_TOTP_SECRET_KEY", var_dir=VAR_DIR)
# Mailbox credentials (IMAP/SMTP passwords) are stored encrypted with this key (mail app).
OTKLIK_MAIL_SECRET_KEY = read_secret("OTKLIK_MAIL_SECRET_KEY", var_dir=VAR_DIR)
# The PBX signs its call events with this shared secret (HMAC-SHA256; telephony app).
OTKLIK_CTI_SECRET = read_secret("OTKLIK_CTI_SECRET", var_dir=VAR_DIR)
for _name, _value in (
    ("SECRET_KEY", SECRET_KEY),
    ("OTKLIK_BACKOFFICE_SECRET", OTKLIK_BACKOFFICE_SECRET),
    ("OTKLIK_OUTBOX_SECRET_KEY", OTKLIK_OUTBOX_SECRET_KEY),
    ("OTKLIK_TOTP_SECRET_KEY", OTKLIK_TOTP_SECRET_KEY),
    ("OTKLIK_MAIL_SECRET_KEY", OTKLIK_MAIL_SECRET_KEY),
    ("OTKLIK_CTI_SECRET", OTKLIK_CTI_SECRET),
):
    if not _value:
        raise ImproperlyConfigured(
            f"{_name} is not set. Set {_name} (or {_name}_FILE) in the environment; "
            f"`make run` creates a random one for a local install ({VAR_DIR}). "
            "Outside development (DEBUG=1) there is no default."
        )
# --- end of secrets ----------------------------------------------------------------------
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "ninja",
    "django_tasks_db",
    "otklik.common",
    "otklik.jobs",
    "otklik.accounts",
    "otklik.audit",
    "otklik.clients",
    "otklik.cases",
    "otklik.handoffs",
    "otklik.notifications",
    "otklik.live",
    "otklik.presence",
    "otklik.sla",
    "otklik.portal",
    "otklik.knowledge",
    "otklik.actions",
    "otklik.orders",
    "otklik.chat",
    "otklik.api",
    "otklik.workspace",
    "otklik.demo",
    "otklik.retention",
    "otklik.analytics",
    "otklik.relationship",
    "otklik.proposals",
    "otklik.quality",
    "otklik.library",
    "otklik.mail",
    "otklik.telephony",
    "otklik.ops",
    "otklik.imports",
]

MIDDLEWARE = [
    # Request id, the JSON access line and latency metrics (otklik.ops; first, to time all).
    "otklik.ops.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "otklik.common.middleware.ExplicitLanguageOnlyMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "otklik.accounts.middleware.SecondFactorMiddleware",
    "otklik.common.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Security review (issue 10 finding 9): CSP header, and no-store on dynamic pages.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "otklik.common.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "otklik.urls"
WSGI_APPLICATION = "otklik.wsgi.application"
ASGI_APPLICATION = "otklik.asgi.application"
# Threads per server process that run requests' synchronous code (views, ORM); each keeps
# its database connection between requests (otklik/ops/asgi_handler.py).
OTKLIK_ASGI_THREADS = env_int("OTKLIK_ASGI_THREADS", 4)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'otklik.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend plus a writer lock that hands the database to the next writer at
    # once (otklik/common/sqlite_backend/base.py).
    DATABASES["default"]["ENGINE"] = "otklik.common.sqlite_backend"
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Connections are kept like PostgreSQL's (conn_max_age above): opening one re-reads the
    # schema and runs the PRAGMAs below, and its page cache would start cold on every
    # request (a quarter of an intake's time at 1 M cases, see docs/benchmarks.md).
    # Tests use a file, not Django's shared in-memory database: browser tests run a live
    # server whose threads would otherwise share one SQLite connection and collide.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-otklik-{os.getpid()}.sqlite3"),
    }
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the queue page read while an intake writes; IMMEDIATE avoids
        # "database is locked" upgrades from read to write inside a transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    # "redis-pubsub": one PUBLISH per group send instead of a queue per receiving socket;
    # at most once, which the chat's and live events' catch-up by seq/id already covers.
    # Measured faster for chat fan-out (docs/benchmarks.md, "Live chat").
    _CHANNEL_LAYER = env_str("OTKLIK_CHANNEL_LAYER", "redis")
    if _CHANNEL_LAYER not in {"redis", "redis-pubsub"}:
        raise ImproperlyConfigured("OTKLIK_CHANNEL_LAYER must be redis or redis-pubsub")
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"
            if _CHANNEL_LAYER == "redis-pubsub"
            else "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "otklik.chat.layers.InMemoryChannelLayer"}}

# Throttles (otklik.common.throttle) count in a store every process shares: "redis" (the
# default when REDIS_URL is set) or "db" (a table in the main database, the default
# otherwise). Never per-process memory, which would multiply limits by the worker count.
# Presence (otklik.presence.store): who has a case or card open; Redis keys under this prefix.
OTKLIK_PRESENCE_PREFIX = env_str("OTKLIK_PRESENCE_PREFIX", "otklik:presence")
OTKLIK_THROTTLE_STORE = env_str("OTKLIK_THROTTLE_STORE", "redis" if REDIS_URL else "db")
if OTKLIK_THROTTLE_STORE not in {"redis", "db"}:
    raise ImproperlyConfigured("OTKLIK_THROTTLE_STORE must be redis or db")
if OTKLIK_THROTTLE_STORE == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("OTKLIK_THROTTLE_STORE=redis needs REDIS_URL")

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace:queue"
LOGOUT_REDIRECT_URL = "login"
# Staff sign-in (otklik.accounts.login): failed passwords or authenticator codes lock the
# account after OTKLIK_LOGIN_FAILURES_PER_ACCOUNT, the address after
# OTKLIK_LOGIN_FAILURES_PER_ADDRESS (any accounts), for OTKLIK_LOGIN_LOCKOUT_SECONDS.
# OTKLIK_REQUIRE_2FA_ROLES (e.g. "admin,supervisor"; empty in the demo, so `make run`
# logins work with a password): those roles (and superusers, with "admin") must enrol an
# authenticator app (TOTP) at /account/2fa/ and sign in with its code.
OTKLIK_LOGIN_FAILURES_PER_ACCOUNT = env_int("OTKLIK_LOGIN_FAILURES_PER_ACCOUNT", 5)
OTKLIK_LOGIN_FAILURES_PER_ADDRESS = env_int("OTKLIK_LOGIN_FAILURES_PER_ADDRESS", 20)
OTKLIK_LOGIN_LOCKOUT_SECONDS = env_int("OTKLIK_LOGIN_LOCKOUT_SECONDS", 15 * 60)
OTKLIK_LOGIN_THROTTLE_PREFIX = "login"
OTKLIK_REQUIRE_2FA_ROLES = env_list("OTKLIK_REQUIRE_2FA_ROLES", [])
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Transport and browser security (security review, issue 10 finding 9) --------------
# Off by default so `make run` works over plain http on 127.0.0.1; a deployment behind
# TLS turns them on (README, "Production": `manage.py check --deploy` is then clean).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO,https" — only if the proxy
# always sets (and overwrites) that header.
_proxy_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_header and len(_proxy_header) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be '<META name>,<value>'")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy (Django's own middleware): scripts and styles from this server
# only, the few inline scripts carry the per-response nonce ({{ csp_nonce }}); no
# 'unsafe-inline', no eval. connect-src 'self' covers the chat's and live updates' ws(s).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# --- end of transport and browser security ---------------------------------------------

# Page size of queue and API lists; the API lets a caller ask for up to API_MAX_PAGE_SIZE.
QUEUE_PAGE_SIZE = env_int("OTKLIK_QUEUE_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = env_int("OTKLIK_API_MAX_PAGE_SIZE", 200)
# Default resolution deadline for a new case, in hours (SLA policies refine it later).
CASE_DEFAULT_RESOLUTION_HOURS = env_int("OTKLIK_CASE_RESOLUTION_HOURS", 72)

# The site's public base URL: every link in an e-mail or SMS is built from it
# (common.links.absolute_url), so a mail is clickable wherever it is read. The default is
# what `make run` serves: http://127.0.0.1:$PORT/ (the Makefile exports PORT).
OTKLIK_PUBLIC_URL = env_str("OTKLIK_PUBLIC_URL", "") or (
    f"http://127.0.0.1:{env_int('PORT', 8000)}/"
)
if not OTKLIK_PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("OTKLIK_PUBLIC_URL must start with http:// or https://")
if not OTKLIK_PUBLIC_URL.endswith("/"):
    OTKLIK_PUBLIC_URL += "/"

# Client portal (ЛК). Login codes are delivered only through the outbox (SMS/e-mail);
# OTKLIK_PORTAL_SHOW_CODES shows them on the login page for demos and is ignored unless
# DEBUG is on. OTKLIK_PORTAL_TEAM names the team that gets requests a client opens without
# a topic that has a default team.
OTKLIK_PORTAL_SHOW_CODES = env_bool("OTKLIK_PORTAL_SHOW_CODES", False)
OTKLIK_PORTAL_TEAM = env_str("OTKLIK_PORTAL_TEAM", "")

# OTKLIK_LOG_FORMAT=json (`make serve`, the container): one JSON object a line with the
# request id and user id (otklik.ops.logs); "text" (default) for a developer's console.
OTKLIK_LOG_FORMAT = env_str("OTKLIK_LOG_FORMAT", "text")
if OTKLIK_LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("OTKLIK_LOG_FORMAT must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "otklik.ops.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "otklik.ops.logs.JsonFormatter"},
        "text": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": OTKLIK_LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The access line per request: on in production (json), off on a developer's console.
        "otklik.request": {"level": "INFO" if OTKLIK_LOG_FORMAT == "json" else "WARNING"},
    },
}

# Serve static files from the apps' static folders without a collectstatic step, so
# `make run` needs nothing but Python; a deployment may still run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Background jobs through Django's tasks API (`django.tasks`). "db" (default): a queue
# table in the main database, worked by `manage.py run_worker` (which `make run` starts);
# "redis": RQ queues on OTKLIK_TASKS_REDIS_URL (default REDIS_URL) for workers on several
# machines; "immediate": run in the caller's process. The worker also runs the periodic
# scans below, so a lost job is picked up by the next scan anyway.
TASKS_BACKEND_NAME = env_str("OTKLIK_TASKS_BACKEND", "db").strip().lower()
_TASK_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "redis": "otklik.jobs.backends.RQBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "dummy": "django.tasks.backends.dummy.DummyBackend",
}
if TASKS_BACKEND_NAME not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"OTKLIK_TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, "
        f"got {TASKS_BACKEND_NAME!r}"
    )
TASKS_REDIS_URL = env_str("OTKLIK_TASKS_REDIS_URL", REDIS_URL)
if TASKS_BACKEND_NAME == "redis" and not TASKS_REDIS_URL:
    raise ImproperlyConfigured("OTKLIK_TASKS_BACKEND=redis needs REDIS_URL")
TASKS = {
    "default": {
        "BACKEND": _TASK_BACKENDS[TASKS_BACKEND_NAME],
        "QUEUES": ["default"],
        "OPTIONS": (
            {"URL": TASKS_REDIS_URL, "PREFIX": env_str("OTKLIK_TASKS_REDIS_PREFIX", "otklik")}
            if TASKS_BACKEND_NAME == "redis"
            else {}
        ),
    }
}
# Periodic scans the worker calls (dotted path, seconds between calls). A scan whose
# module is not there yet is skipped with a warning.
OTKLIK_PERIODIC_SCANS = [
    ("otklik.notifications.delivery.deliver_due", 1.0),
    ("otklik.sla.services.scan_deadlines", 1.0),
    ("otklik.jobs.maintenance.prune_finished_jobs", 3600.0),
    ("otklik.common.throttle.prune_expired", 600.0),
    ("otklik.api.services.idempotency_keys_prune", 3600.0),
    # Weekly in effect: the scan claims the ISO week once; hourly calls cost one lookup.
    ("otklik.knowledge.services.refresher_scan", 3600.0),
    ("otklik.actions.executors.deliver_due", 2.0),
    ("otklik.orders.services.workflow_scan", 2.0),
    # Bounded by OTKLIK_RETENTION_SCAN_SECONDS per call; what is left waits for the next.
    ("otklik.retention.services.retention_scan", 3600.0),
    ("otklik.audit.spool.spool_flush", 1.0),
    ("otklik.relationship.services.task_reminders_scan", 30.0),
    # Weekly in effect: samples last week's contacts for quality review once.
    ("otklik.quality.services.sampling_scan", 3600.0),
    ("otklik.mail.imap.poll_due", 30.0),
    ("otklik.mail.outbound.deliver_due", 5.0),
    # The worker's heartbeat and its scans' last runs, for readiness and metrics (ops app).
    ("otklik.ops.heartbeat.beat", 5.0),
]
# Page views of a client's data are audited through a spool of this directory (one file
# per web process, moved into the audit log by the worker every second; see audit/spool.py).
# With FSYNC each view's line is also flushed to disk (survives a power loss, costs a sync).
OTKLIK_AUDIT_SPOOL_DIR = env_str("OTKLIK_AUDIT_SPOOL_DIR", str(VAR_DIR / "audit-spool"))
OTKLIK_AUDIT_SPOOL_FSYNC = env_bool("OTKLIK_AUDIT_SPOOL_FSYNC", False)
# A retried create with the same Idempotency-Key is answered from the stored response for
# this many days; older keys are deleted by the hourly scan and may be used again.
OTKLIK_IDEMPOTENCY_KEY_DAYS = env_int("OTKLIK_IDEMPOTENCY_KEY_DAYS", 7)
# Retention (152-ФЗ: personal data is kept no longer than its purpose needs): days after
# which each data class is anonymised or deleted by `manage.py retention` and the hourly
# scan; see docs/retention.md for the defaults and why. OTKLIK_RETENTION_DISABLED lists
# classes to keep indefinitely (e.g. while a legal hold is in force).
OTKLIK_RETENTION_DAYS = {
    "chats": env_int("OTKLIK_RETENTION_CHATS_DAYS", 3 * 365),
    "interactions": env_int("OTKLIK_RETENTION_INTERACTIONS_DAYS", 3 * 365),
    "attachments": env_int("OTKLIK_RETENTION_ATTACHMENTS_DAYS", 3 * 365),
    "closed_cases": env_int("OTKLIK_RETENTION_CLOSED_CASES_DAYS", 5 * 365),
    "surveys": env_int("OTKLIK_RETENTION_SURVEYS_DAYS", 3 * 365),
    "clients": env_int("OTKLIK_RETENTION_CLIENTS_DAYS", 5 * 365),
    "outbox": env_int("OTKLIK_RETENTION_OUTBOX_DAYS", 30),
    "backoffice_calls": env_int("OTKLIK_RETENTION_BACKOFFICE_CALLS_DAYS", 365),
    "one_time_codes": env_int("OTKLIK_RETENTION_ONE_TIME_CODES_DAYS", 30),
    "sessions": env_int("OTKLIK_RETENTION_SESSIONS_DAYS", 1),
    "live_events": env_int("OTKLIK_RETENTION_LIVE_EVENTS_DAYS", 90),
    "audit": env_int("OTKLIK_RETENTION_AUDIT_DAYS", 3 * 365),
}
OTKLIK_RETENTION_DISABLED = env_list("OTKLIK_RETENTION_DISABLED", [])
OTKLIK_RETENTION_BATCH_SIZE = env_int("OTKLIK_RETENTION_BATCH_SIZE", 500)
OTKLIK_RETENTION_SCAN_SECONDS = env_int("OTKLIK_RETENTION_SCAN_SECONDS", 30)
# Refreshers: a procedure nobody in a team pinned or used for this many weeks is put in the
# team's weekly refresher, at most KNOWLEDGE_REFRESHER_SIZE of them.
KNOWLEDGE_REFRESHER_WEEKS = env_int("OTKLIK_KNOWLEDGE_REFRESHER_WEEKS", 8)
KNOWLEDGE_REFRESHER_SIZE = env_int("OTKLIK_KNOWLEDGE_REFRESHER_SIZE", 5)
# The knowledge search fuses its lexical ranking with sentence embeddings (knowledge/semantic.py);
# 0 turns the semantic channel off (lexical ranking alone, no model loaded).
OTKLIK_KNOWLEDGE_SEMANTIC = env_bool("OTKLIK_KNOWLEDGE_SEMANTIC", True)

# Operator actions: signed webhooks to the back office (default: the demo back office
# served by Otklik itself at /actions/demo-backoffice/). OTKLIK_BACKOFFICE_SECRET (see
# "Secrets" above) signs every call (HMAC-SHA256). Failed calls retry with backoff
# starting at OTKLIK_BACKOFFICE_BACKOFF_SECONDS (×4, capped) until MAX_ATTEMPTS.
OTKLIK_BACKOFFICE_URL = env_str(
    "OTKLIK_BACKOFFICE_URL", OTKLIK_PUBLIC_URL + "actions/demo-backoffice/"
)
OTKLIK_BACKOFFICE_TIMEOUT = env_int("OTKLIK_BACKOFFICE_TIMEOUT", 10)
OTKLIK_BACKOFFICE_MAX_ATTEMPTS = env_int("OTKLIK_BACKOFFICE_MAX_ATTEMPTS", 6)
OTKLIK_BACKOFFICE_BACKOFF_SECONDS = env_int("OTKLIK_BACKOFFICE_BACKOFF_SECONDS", 10)
OTKLIK_BACKOFFICE_BACKOFF_MAX_SECONDS = env_int("OTKLIK_BACKOFFICE_BACKOFF_MAX_SECONDS", 3600)
# The demo back office refuses requests whose timestamp is further than this from now.
OTKLIK_BACKOFFICE_WINDOW_SECONDS = env_int("OTKLIK_BACKOFFICE_WINDOW_SECONDS", 300)

# Orders the client signs (otklik.orders): a workflow step is leased for
# OTKLIK_ORDERS_STEP_LEASE_SECONDS (a worker killed mid-step is replaced after it); a failed
# step is retried after OTKLIK_ORDERS_STEP_BACKOFF_SECONDS (x4 each time) and handed to the
# OTKLIK_ORDERS_HANDOFF_DEPARTMENT after OTKLIK_ORDERS_STEP_MAX_ATTEMPTS. A step waiting
# for frozen assets is rechecked every OTKLIK_ORDERS_WAIT_RECHECK_SECONDS. Back-office steps
# call OTKLIK_BACKOFFICE_URL ("webhook") or a stand-in that answers at once ("simulated").
ORDERS_STEP_LEASE_SECONDS = env_int("OTKLIK_ORDERS_STEP_LEASE_SECONDS", 300)
ORDERS_STEP_BACKOFF_SECONDS = env_int("OTKLIK_ORDERS_STEP_BACKOFF_SECONDS", 30)
ORDERS_STEP_MAX_ATTEMPTS = env_int("OTKLIK_ORDERS_STEP_MAX_ATTEMPTS", 4)
ORDERS_WAIT_RECHECK_SECONDS = env_int("OTKLIK_ORDERS_WAIT_RECHECK_SECONDS", 60)
ORDERS_HANDOFF_DEPARTMENT = env_str("OTKLIK_ORDERS_HANDOFF_DEPARTMENT", "back_office")
ORDERS_BACK_OFFICE = env_str("OTKLIK_ORDERS_BACK_OFFICE", "webhook").strip().lower()
if ORDERS_BACK_OFFICE not in ("webhook", "simulated"):
    raise ImproperlyConfigured("OTKLIK_ORDERS_BACK_OFFICE must be webhook or simulated")

# Outbox delivery: a claimed row is leased for OTKLIK_OUTBOX_LEASE_SECONDS (then another
# worker may take it over); failures retry with exponential backoff and jitter, starting
# at OTKLIK_OUTBOX_BACKOFF_SECONDS and multiplying by 4, until OTKLIK_OUTBOX_MAX_ATTEMPTS.
OUTBOX_LEASE_SECONDS = env_int("OTKLIK_OUTBOX_LEASE_SECONDS", 120)
OUTBOX_MAX_ATTEMPTS = env_int("OTKLIK_OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_BACKOFF_SECONDS = env_int("OTKLIK_OUTBOX_BACKOFF_SECONDS", 30)
OUTBOX_BACKOFF_MAX_SECONDS = env_int("OTKLIK_OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600)

# E-mail (Django 6.1 MAILERS). The embedded default writes each message to a file under
# var/mail, so `make run` needs no SMTP server; EMAIL_BACKEND=smtp sends through
# EMAIL_HOST:EMAIL_PORT, "console" prints, or give a dotted backend path.
_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = env_str("EMAIL_BACKEND", "file")
_email_backend = _EMAIL_BACKENDS.get(_email_backend, _email_backend)
if _email_backend == _EMAIL_BACKENDS["smtp"]:
    _email_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": env_int("EMAIL_TIMEOUT", 20),
    }
elif _email_backend == _EMAIL_BACKENDS["file"]:
    _email_options = {"file_path": env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
else:
    _email_options = {}
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Otklik <noreply@otklik.local>")

# How each notification channel is delivered: "email" (Django's mail backend), "logging"
# (log a masked line: the embedded default for SMS and push) or "webhook" (signed JSON
# POST to the channel's URL; the gateway deduplicates by the Idempotency-Key header).
WEBHOOK_SECRET = env_str("OTKLIK_WEBHOOK_SECRET", "")
WEBHOOK_TIMEOUT = env_int("OTKLIK_WEBHOOK_TIMEOUT", 10)
NOTIFIERS = {}
for _channel, _default in (
    ("email", "email"),
    ("sms", "logging"),
    ("push", "logging"),
    ("webhook", "logging"),
):
    _url = env_str(f"OTKLIK_{_channel.upper()}_WEBHOOK_URL", "")
    if _channel == "webhook":
        _url = env_str("OTKLIK_WEBHOOK_URL", _url)
    NOTIFIERS[_channel] = {
        "BACKEND": env_str(f"OTKLIK_{_channel.upper()}_BACKEND", "webhook" if _url else _default)
        .strip()
        .lower(),
        "URL": _url,
    }
    if NOTIFIERS[_channel]["BACKEND"] not in {"email", "logging", "webhook"}:
        raise ImproperlyConfigured(
            f"OTKLIK_{_channel.upper()}_BACKEND must be email, logging or webhook"
        )
    if NOTIFIERS[_channel]["BACKEND"] == "webhook" and not _url:
        raise ImproperlyConfigured(f"OTKLIK_{_channel.upper()}_WEBHOOK_URL is not set")

# Live chat (otklik.chat). OTKLIK_CHAT_ALLOWED_ORIGINS: the sites that may embed the widget
# (e.g. "https://bank.example"); this server's own hosts are always allowed. Capacity is
# the default number of concurrent chats per operator; the bot hands off below
# OTKLIK_CHAT_BOT_MIN_SCORE; SL counts chats answered within OTKLIK_CHAT_SL_SECONDS.
OTKLIK_CHAT_ALLOWED_ORIGINS = env_list("OTKLIK_CHAT_ALLOWED_ORIGINS", [])
OTKLIK_CHAT_DEFAULT_CAPACITY = env_int("OTKLIK_CHAT_DEFAULT_CAPACITY", 3)
# Both on the search's fused probability that the top article is right (knowledge/fusion.py),
# fitted on the issue-11 dev set: below MIN the bot hands off, from ANSWER it answers outright
# (cross-validated: 4.4 % of out-of-scope questions score that high; the clear-lead rule in
# chat/bot.py answers fewer), in between it offers choices.
OTKLIK_CHAT_BOT_MIN_SCORE = float(env_str("OTKLIK_CHAT_BOT_MIN_SCORE", "0.15"))
OTKLIK_CHAT_BOT_ANSWER_SCORE = float(env_str("OTKLIK_CHAT_BOT_ANSWER_SCORE", "0.70"))
OTKLIK_CHAT_SL_SECONDS = env_int("OTKLIK_CHAT_SL_SECONDS", 60)
# Widget limits (otklik.chat.limits): new chats per address per 10 minutes, visitor
# messages per chat per minute; over them the widget shows when to try again.
OTKLIK_CHAT_STARTS_PER_ADDRESS = env_int("OTKLIK_CHAT_STARTS_PER_ADDRESS", 10)
OTKLIK_CHAT_MESSAGES_PER_MINUTE = env_int("OTKLIK_CHAT_MESSAGES_PER_MINUTE", 20)
OTKLIK_CHAT_MAX_ATTACHMENT_BYTES = env_int("OTKLIK_CHAT_MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024)
# Analytics (docs/metrics.md): a case is resolved at first contact (FCR) when the same client
# does not come back on the same topic within this many days; SL thresholds per channel, in
# seconds (phone 80/20, chat first reply within a minute, portal and e-mail within 8 hours);
# NPS surveys go to one client at most once per quiet period.
OTKLIK_FCR_REPEAT_DAYS = env_int("OTKLIK_FCR_REPEAT_DAYS", 7)
# The phone threshold is the one the telephony app marks each call with (answered_in_target)
# and the one the analytics' SL uses: one setting. OTKLIK_CTI_SL_SECONDS, its older name
# (README), is still read when OTKLIK_SL_PHONE_SECONDS is not set; both set and different
# is refused rather than silently picking one.
_phone_sl = os.environ.get("OTKLIK_SL_PHONE_SECONDS", "").strip()
_cti_sl = os.environ.get("OTKLIK_CTI_SL_SECONDS", "").strip()
if _phone_sl and _cti_sl and _phone_sl != _cti_sl:
    raise ImproperlyConfigured(
        "OTKLIK_SL_PHONE_SECONDS and OTKLIK_CTI_SL_SECONDS (its older name) are both set and "
        "differ; set only OTKLIK_SL_PHONE_SECONDS."
    )
OTKLIK_SL_SECONDS = {
    "phone": env_int("OTKLIK_SL_PHONE_SECONDS" if _phone_sl else "OTKLIK_CTI_SL_SECONDS", 20),
    "chat": env_int("OTKLIK_SL_CHAT_SECONDS", 60),
    "messenger": env_int("OTKLIK_SL_MESSENGER_SECONDS", 300),
    "portal": env_int("OTKLIK_SL_PORTAL_SECONDS", 8 * 3600),
    "email": env_int("OTKLIK_SL_EMAIL_SECONDS", 8 * 3600),
}
OTKLIK_SL_TARGET_PERCENT = env_int("OTKLIK_SL_TARGET_PERCENT", 80)
OTKLIK_NPS_QUIET_DAYS = env_int("OTKLIK_NPS_QUIET_DAYS", 90)
# A relationship survey sends at most this many in one go (the rest with the next send).
OTKLIK_NPS_RELATIONSHIP_MAX = env_int("OTKLIK_NPS_RELATIONSHIP_MAX", 2000)
OTKLIK_PERIODIC_SCANS += [
    # Recomputes the hours changed since the watermark (docs/metrics.md, "Rollups").
    ("otklik.analytics.rollups.rollup_scan", 300.0),
    ("otklik.analytics.services.nps_after_case_scan", 600.0),
    ("otklik.analytics.reports.weekly_report_scan", 3600.0),
]

# E-mail channel (mail app): the largest attachment kept from a client's e-mail, and how
# many e-mails one sender may open or add to cases per hour (the rest are set aside).
OTKLIK_MAIL_MAX_ATTACHMENT_BYTES = env_int("OTKLIK_MAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
OTKLIK_MAIL_SENDER_PER_HOUR = env_int("OTKLIK_MAIL_SENDER_PER_HOUR", 30)
# Telephony (CTI): a call answered within OTKLIK_SL_SECONDS["phone"] counts toward the service
# level (above); a missed call should be called back within the callback target (minutes).
OTKLIK_CTI_CALLBACK_MINUTES = env_int("OTKLIK_CTI_CALLBACK_MINUTES", 30)

# Health and metrics (otklik.ops). Readiness reports a worker missing when no heartbeat is
# newer than WORKER_MAX_AGE seconds, and lag above the two limits (seconds); those fail the
# probe only with ?strict=1. /metrics answers a bearer OTKLIK_METRICS_TOKEN or a client in
# OTKLIK_METRICS_NETWORKS (CIDRs, e.g. "10.0.0.0/8,127.0.0.1/32"); with neither it is off.
OTKLIK_HEALTH_WORKER_MAX_AGE = env_int("OTKLIK_HEALTH_WORKER_MAX_AGE", 30)
OTKLIK_HEALTH_OUTBOX_MAX_LAG = env_int("OTKLIK_HEALTH_OUTBOX_MAX_LAG", 300)
OTKLIK_HEALTH_SLA_SCAN_MAX_LAG = env_int("OTKLIK_HEALTH_SLA_SCAN_MAX_LAG", 60)
OTKLIK_METRICS_TOKEN = env_str("OTKLIK_METRICS_TOKEN", "")
OTKLIK_METRICS_NETWORKS = env_list("OTKLIK_METRICS_NETWORKS", [])
# Probes come over plain http from inside the network even when the site redirects to https.
SECURE_REDIRECT_EXEMPT = [r"^healthz/", r"^metrics$"]
