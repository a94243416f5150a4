"""SQLite gets planner statistics after migrate (without them queue queries took seconds)."""

import pytest
from django.db import connection


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL gathers its own statistics")
def test_migrate_leaves_sqlite_statistics(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        assert cursor.fetchone() is not None
