# The database's own guard on SQLite, as 0007 is on PostgreSQL: no path can commit a published
# record citing no source. How, and why not with immediate checks: regulation/sqlite_citations.py.
# Later `migrate` runs drop the triggers first and install them again after (regulation/receivers.py),
# since SQLite cannot rebuild a table that another table's trigger names.

from django.db import migrations

from regulation import sqlite_citations


def install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL: 0007's deferred constraint triggers
    with schema_editor.connection.cursor() as cursor:
        sqlite_citations.create_tables(cursor)
        sqlite_citations.create_triggers(cursor, apps)


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        sqlite_citations.drop_triggers(cursor)
        sqlite_citations.drop_tables(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ("regulation", "0018_citation_check_waits_for_the_record"),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
