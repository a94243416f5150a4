"""Backup and restore of the database, for both backends (docs/deploy.md, "Backup").

SQLite: SQLite's online backup API copies a consistent snapshot while the server keeps
running (WAL readers and writers go on), then the copy's integrity is checked. Restoring
copies a checked backup back page by page into the live file; stop the app and workers
first. PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean`, the tools of the
server's major version. Uploaded files (MEDIA_ROOT) are backed up beside the database.
"""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection


class BackupError(Exception):
    """A backup or restore that could not be done, with the reason."""


def integrity_ok(path: Path) -> bool:
    """SQLite's own check of every page and index; a file that is no database fails it."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        return False
    finally:
        db.close()


def backup(output: Path) -> Path:
    """Write a consistent copy of the database to `output` (a file; overwritten)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        tmp = output.with_suffix(output.suffix + ".partial")
        tmp.unlink(missing_ok=True)
        source = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=30)
        try:
            target = sqlite3.connect(tmp)
            with target:
                source.backup(target, pages=1024)
            target.close()
        finally:
            source.close()
        if not integrity_ok(tmp):
            raise BackupError(f"the copy {tmp} failed SQLite's integrity check")
        tmp.replace(output)
        return output
    if connection.vendor == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={output}", _pg_url()])
        return output
    raise BackupError(f"no backup for the {connection.vendor} backend")


def restore(source: Path) -> None:
    """Replace the database's contents with the backup in `source` (stop the app first)."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    if connection.vendor == "sqlite":
        if not integrity_ok(source):
            raise BackupError(f"{source} failed SQLite's integrity check; nothing was changed")
        connection.close()
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=30)
        try:
            backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
        return
    if connection.vendor == "postgresql":
        connection.close()
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--dbname={_pg_url()}",
                str(source),
            ]
        )
        return
    raise BackupError(f"no restore for the {connection.vendor} backend")


def _pg_url() -> str:
    from django.conf import settings as s

    return s.DATABASE_URL


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed (the PostgreSQL client tools)")
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {result.stderr.strip()[:500]}")
