"""Every migration reverses, on a database holding the rows that made reversing hard."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from regulation.models import Certainty, Milestone, Precision
from tests.factories import make_milestone

APPS = ("regulation", "tracker")


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
