"""System checks on the data itself. On PostgreSQL the database refuses a published record
without a source (migration 0004's triggers); SQLite has no such trigger, so this check reports
any that got in (`manage.py check --database default`, and `migrate` runs it)."""

from django.core.checks import Error, Tags, register
from django.db import DatabaseError

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
