"""Every migration reverses, on a database holding the rows that made reversing hard."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from regulation.models import Certainty, Milestone, Precision
from tests.factories import make_milestone

APPS = ("regulation", "tracker")
BASE_DIR = Path(__file__).resolve().parents[1]


def migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def latest_migrations() -> list[tuple[str, str]]:
    graph = MigrationExecutor(connection).loader.graph
    return [node for node in graph.leaf_nodes() if node[0] in APPS]


def copy_the_date_changes() -> None:
    """Insert a copy of each stored date change, as code of that era could have done."""
    columns = (
        "created_at, updated_at, milestone_id, old_date, old_precision, old_certainty, "
        "new_date, new_precision, new_certainty, reason"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO regulation_datechange ({columns}) "
            f"SELECT {columns} FROM regulation_datechange"
        )


@pytest.mark.django_db(transaction=True)
def test_every_migration_reverses_on_a_database_holding_a_certainty_only_date_change():
    milestone = make_milestone(
        date=dt.date(2026, 7, 1), date_precision=Precision.MONTH, certainty=Certainty.EXPECTED
    )
    milestone.move_to(dt.date(2026, 7, 1), certainty=Certainty.CONFIRMED, reason="Confirmed.")
    latest = latest_migrations()

    try:
        # Back to the first schema, whose rule (the date or its precision must change) this
        # row breaks: the row is kept, and the rule still refuses new rows that break it.
        migrate([("regulation", "0001_initial")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT old_certainty, new_certainty FROM regulation_datechange")
            assert cursor.fetchall() == [("expected", "confirmed")]
        with pytest.raises(IntegrityError), transaction.atomic():
            copy_the_date_changes()

        migrate([(app, None) for app in APPS])
    finally:
        migrate(latest)

    assert Milestone.objects.count() == 0
    assert MigrationExecutor(connection).migration_plan(latest) == []


def test_every_migration_applies_and_reverses_on_the_embedded_sqlite_default(tmp_path):
    """`make run` migrates a SQLite file: SQLite copies a table to change it and rebuilds its
    indexes from the models' state, so a PostgreSQL-only index in that state broke it once."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DJANGO_DEBUG": "true",
        "VAR_DIR": str(tmp_path / "var"),
    }  # no DATABASE_URL: the embedded default, a SQLite file under VAR_DIR

    def manage(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args, "--verbosity", "0"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]

    manage("migrate")
    manage("migrate", "regulation", "0003")
    manage("migrate")
