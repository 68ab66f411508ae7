# The deferred check that a published record cites a source (0007) read the record's status and
# its citations without a lock: two transactions, one publishing a record and one removing its
# last citation (or two each removing one of its last two), each checked before the other had
# committed, and both committed (write skew). The check now locks the record's row first: the
# second transaction waits for the first to end, then sees what it committed.

from django.db import migrations

FUNCTION = "regulation_published_cites_a_source"


def function(lock: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    record_table text := TG_ARGV[0];
    through_table text := TG_ARGV[1];
    record_column text := TG_ARGV[2];
    record_id bigint;
    is_published boolean;
    cites_a_source boolean;
BEGIN
    IF TG_TABLE_NAME = record_table THEN
        record_id := NEW.id;
    ELSE
        record_id := (to_jsonb(OLD) ->> record_column)::bigint;
    END IF;
    EXECUTE format('SELECT status = %L FROM %I WHERE id = $1{lock}', 'published', record_table)
        INTO is_published USING record_id;
    IF is_published THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1)', through_table, record_column)
            INTO cites_a_source USING record_id;
        IF NOT cites_a_source THEN
            RAISE EXCEPTION 'A published record must cite at least one source: % id % cites none.',
                record_table, record_id USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NULL;
END
$$;
"""


def replace_function(lock: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(function(lock), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("regulation", "0017_titles_are_one_line"),
    ]

    operations = [
        migrations.RunPython(replace_function(" FOR UPDATE"), replace_function("")),
    ]
