"""The restore drill: back up, lose data, restore, and find everything as it was."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from otklik.cases.models import Case
from tests.factories import make_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the drill restores a SQLite file; PostgreSQL uses pg_dump/pg_restore")


def test_restore_drill_on_sqlite(sqlite_only, cast, tmp_path):
    kept = make_case(actor=cast.alice, subject="Блокировка карты")
    backup_file = tmp_path / "otklik-backup.sqlite3"
    call_command("backup", str(backup_file))
    assert backup_file.stat().st_size > 0

    # After the backup: a case is deleted by mistake, another one is opened.
    Case.objects.filter(pk=kept.pk).delete()
    later = make_case(actor=cast.alice, subject="После копии")

    call_command("restore", str(backup_file), "--yes")

    restored = Case.objects.get(pk=kept.pk)
    assert restored.subject == "Блокировка карты"
    assert restored.events.exists()  # its history came back with it
    assert not Case.objects.filter(pk=later.pk).exists()
    # The database works for writes after the restore.
    make_case(actor=cast.alice, subject="Снова в работе")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        assert cursor.fetchone()[0] == "ok"


def test_restore_needs_confirmation_and_a_sound_file(sqlite_only, tmp_path):
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "x.sqlite3"))
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(CommandError):
        call_command("restore", str(broken), "--yes")
    with pytest.raises(CommandError, match="not a file"):
        call_command("restore", str(tmp_path / "missing.sqlite3"), "--yes")
