"""System checks on the data itself (`manage.py check --database default`; `migrate` runs them).
The database refuses to commit a published record without a source: PostgreSQL with deferred
constraint triggers (migration 0007), SQLite with triggers keeping a deferred foreign key
unsatisfied (0019). What got in before those migrations, or on SQLite through a connection with
foreign keys off (the sqlite3 shell's default), is reported here; so are SQLite's triggers gone
missing (say, dropped by hand or by a migration run without `migrate`)."""

from django.apps import apps
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connections

from regulation import sqlite_citations
from regulation.models import public_models


@register(Tags.database)
def published_records_cite_a_source(app_configs=None, databases=None, **kwargs) -> list[Error]:
    if not databases:
        return []
    errors = []
    for database in databases:
        for model in public_models():
            try:
                uncited = list(
                    model.objects.using(database).published().filter(sources__isnull=True)[:20]
                )
            except DatabaseError:
                return []  # tables not created yet: nothing to check
            errors.extend(
                Error(
                    f"{model._meta.verbose_name.capitalize()} “{record}” is published but cites "
                    "no source.",
                    hint="Add a source to it, or unpublish it.",
                    obj=record,
                    id="regulation.E001",
                )
                for record in uncited
            )
    return errors


@register(Tags.database)
def sqlite_guards_the_publishing_rule(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    errors = []
    for database in databases or []:
        connection = connections[database]
        if connection.vendor != "sqlite":
            continue
        with connection.cursor() as cursor:
            if not sqlite_citations.is_installed(cursor):
                continue  # migration 0019 not applied yet: migrate installs the triggers
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {name for (name,) in cursor.fetchall()}
        missing = sorted(sqlite_citations.trigger_names(apps) - present)
        if missing:
            errors.append(
                # A warning: an error would stop the very `migrate` that puts them back.
                Warning(
                    "SQLite no longer refuses to commit a published record citing no source: "
                    f"the triggers {', '.join(missing)} are missing.",
                    hint="Run `manage.py migrate`: it installs them again.",
                    id="regulation.W001",
                )
            )
    return errors
