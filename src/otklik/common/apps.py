from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _refresh_sqlite_statistics(sender, using: str = "default", **kwargs) -> None:
    """Run ANALYZE on SQLite after migrations.

    SQLite's planner picks indexes from `sqlite_stat1`; without statistics (Django never
    gathers them) it chose scans that made a 1 M-case queue query take seconds instead of
    milliseconds. PostgreSQL keeps its statistics itself (autovacuum).
    """
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class CommonConfig(AppConfig):
    name = "otklik.common"

    def ready(self) -> None:
        # post_migrate is sent once per app with models, after all migrations ran;
        # answer only the last one so ANALYZE runs once per migrate.
        last_app = [config for config in self.apps.get_app_configs() if config.models_module][-1]
        post_migrate.connect(
            _refresh_sqlite_statistics, sender=last_app, dispatch_uid="otklik-sqlite-analyze"
        )
