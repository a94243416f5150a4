"""PostgreSQL only: a GIN index over the lemma text, parsed by the 'simple' configuration.

The lemma text holds only runs of letters or digits, so 'simple' yields exactly the tokens
the analyser produced; SQLite uses the in-process index instead and needs nothing here.
"""

from django.db import migrations

INDEX = "knowledge_searchdoc_lemmas_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON knowledge_articlesearchdoc "
            "USING gin (to_tsvector('simple'::regconfig, lemmas))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
