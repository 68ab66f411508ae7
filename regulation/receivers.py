"""The publishing rule on the paths that go round the models' own methods: a citation removed
through a many-to-many manager (`record.sources.remove()` or `.clear()`, and from the sources'
side, `source.milestones.remove()`); and, around `migrate` on SQLite, the triggers that
make the database refuse the rest (regulation/sqlite_citations.py).
Connected in RegulationConfig.ready()."""

from django.apps import apps as global_apps
from django.db import connections
from django.db.models.signals import m2m_changed, post_migrate, pre_migrate

from regulation import sqlite_citations
from regulation.models import public_models, refuse_leaving_uncited


def refuse_removing_last_source(
    sender, instance, action: str, reverse: bool, model, pk_set, **kwargs
) -> None:
    """Refuse a removal or clear that would leave a published record citing no source."""
    if action not in ("pre_remove", "pre_clear"):
        return
    if reverse:
        # instance is the Source; pk_set names the records (None: all of them, on clear).
        refuse_leaving_uncited([instance.pk], model=model, record_ids=pk_set)
        return
    source_ids = (
        pk_set if pk_set is not None else list(instance.sources.values_list("pk", flat=True))
    )
    refuse_leaving_uncited(source_ids, model=type(instance), record_ids=[instance.pk])


def connect() -> None:
    for model in public_models():
        m2m_changed.connect(
            refuse_removing_last_source,
            sender=model.sources.through,
            dispatch_uid=f"regulation.cites_a_source.{model._meta.model_name}",
        )
    regulation = global_apps.get_app_config("regulation")
    pre_migrate.connect(drop_sqlite_citation_triggers, sender=regulation)
    post_migrate.connect(install_sqlite_citation_triggers, sender=regulation)


def drop_sqlite_citation_triggers(sender, using: str, **kwargs) -> None:
    """Before migrating: SQLite cannot rebuild a table that another table's trigger names."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            sqlite_citations.drop_triggers(cursor)


def install_sqlite_citation_triggers(sender, using: str, apps=global_apps, **kwargs) -> None:
    """After migrating: the triggers again, made from the migrated models (once migration 0019,
    which makes the tables they write to, is applied). A flush sends no apps: the models then."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if sqlite_citations.is_installed(cursor):
            sqlite_citations.create_triggers(cursor, apps)
