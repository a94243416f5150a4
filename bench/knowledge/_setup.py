"""Shared bench setup: a throw-away SQLite database with the knowledge app migrated."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def django_on_fresh_sqlite(name: str) -> None:
    path = Path(os.environ.get("KB_BENCH_DIR", "/tmp")) / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{path}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
