"""The database's own guard on SQLite that a published record cites a source, as migration 0007's
deferred constraint triggers are on PostgreSQL: no path (a through-table delete, an update,
bulk_update, loaddata's raw saves, SQL) can commit a published record citing none.

SQLite has no deferrable triggers, and an immediate check would refuse what is only a step on
the way: loaddata saves a published record before its sources, deleting a record removes its
through rows before the record, and set() removes old sources before adding new ones. So the
triggers keep a list of the published records citing nothing, and each row of the list breaks a
deferred foreign key (its parent table stays empty): SQLite refuses to COMMIT while one is left,
and refuses a statement outside a transaction at once. Django turns foreign keys on for each
connection; a connection with them off (the sqlite3 shell's default) is not guarded, and the
system check reports what got in (regulation/checks.py).

SQLite drops a table's triggers when a migration rebuilds the table, and cannot rename the
rebuilt table while another table's trigger names it: so `migrate` drops the triggers before it
runs the migrations and installs them afresh, from the migrated models, after (see install())."""

from django.apps.registry import Apps

RULE_TABLE = "regulation_published_cites_a_source"  # always empty
UNCITED_TABLE = "regulation_uncited_published_record"
EVENTS = ("insert", "update", "delete")


def public_tables(apps: Apps) -> list[tuple[str, str, str]]:
    """(record table, its sources table, the record's column there) for each public model: the
    models with a status and cited sources, found from the models rather than listed by hand."""
    tables = []
    for model in apps.get_app_config("regulation").get_models():
        fields = {f.name: f for f in model._meta.get_fields()}
        if "status" not in fields or "sources" not in fields or not fields["sources"].many_to_many:
            continue
        sources = model._meta.get_field("sources")
        tables.append(
            (
                model._meta.db_table,
                sources.remote_field.through._meta.db_table,
                sources.m2m_column_name(),
            )
        )
    return tables


def _recheck(record_table: str, through_table: str, column: str, record_id: str) -> str:
    """Statements listing the record if it is published and cites nothing, unlisting it if not."""
    key = f"'{record_table} id ' || {record_id}"
    message = (
        f"'A published record must cite at least one source: {record_table} id ' "
        f"|| {record_id} || ' cites none.'"
    )
    return (
        f'DELETE FROM "{UNCITED_TABLE}" WHERE "record" = {key}; '
        f'INSERT INTO "{UNCITED_TABLE}" ("record", "rule") SELECT {key}, {message} '
        f'FROM "{record_table}" WHERE "id" = {record_id} AND "status" = \'published\' '
        f'AND NOT EXISTS (SELECT 1 FROM "{through_table}" WHERE "{column}" = {record_id});'
    )


def triggers(record_table: str, through_table: str, column: str) -> dict[str, str]:
    """Trigger name: what follows CREATE TRIGGER name, for one public model's two tables."""
    tables = (record_table, through_table, column)
    new_record, old_record = 'NEW."id"', 'OLD."id"'
    new_citer, old_citer = f'NEW."{column}"', f'OLD."{column}"'
    unlist = f'DELETE FROM "{UNCITED_TABLE}" WHERE "record" = \'{record_table} id \' || '
    return {
        f"{record_table}_cites_a_source_insert": (
            f'AFTER INSERT ON "{record_table}" WHEN NEW."status" = \'published\' '
            f"BEGIN {_recheck(*tables, new_record)} END"
        ),
        f"{record_table}_cites_a_source_update": (
            f'AFTER UPDATE OF "status", "id" ON "{record_table}" '
            f"BEGIN {unlist}{old_record}; {_recheck(*tables, new_record)} END"
        ),
        f"{record_table}_cites_a_source_delete": (
            f'AFTER DELETE ON "{record_table}" BEGIN {unlist}{old_record}; END'
        ),
        f"{through_table}_cites_a_source_insert": (
            f'AFTER INSERT ON "{through_table}" BEGIN {unlist}{new_citer}; END'
        ),
        f"{through_table}_cites_a_source_delete": (
            f'AFTER DELETE ON "{through_table}" BEGIN {_recheck(*tables, old_citer)} END'
        ),
        f"{through_table}_cites_a_source_update": (
            f'AFTER UPDATE ON "{through_table}" '
            f"BEGIN {_recheck(*tables, old_citer)} {_recheck(*tables, new_citer)} END"
        ),
    }


def trigger_names(apps: Apps) -> set[str]:
    return {name for tables in public_tables(apps) for name in triggers(*tables)}


def create_tables(cursor) -> None:
    cursor.execute(f'CREATE TABLE "{RULE_TABLE}" ("rule" text NOT NULL PRIMARY KEY)')
    cursor.execute(
        f'CREATE TABLE "{UNCITED_TABLE}" ("record" text NOT NULL PRIMARY KEY, "rule" text NOT '
        f'NULL REFERENCES "{RULE_TABLE}" ("rule") DEFERRABLE INITIALLY DEFERRED)'
    )


def drop_tables(cursor) -> None:
    cursor.execute(f'DROP TABLE IF EXISTS "{UNCITED_TABLE}"')
    cursor.execute(f'DROP TABLE IF EXISTS "{RULE_TABLE}"')


def is_installed(cursor) -> bool:
    """Whether migration 0019 has made the tables the triggers write to."""
    cursor.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [UNCITED_TABLE]
    )
    return cursor.fetchone() is not None


def create_triggers(cursor, apps: Apps) -> None:
    for tables in public_tables(apps):
        for name, definition in triggers(*tables).items():
            cursor.execute(f'CREATE TRIGGER IF NOT EXISTS "{name}" {definition}')


def drop_triggers(cursor) -> None:
    """Every trigger of this guard, found by name, whatever models made it."""
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    ends = tuple(f"_cites_a_source_{event}" for event in EVENTS)
    for (name,) in cursor.fetchall():
        if name.endswith(ends):
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
