"""What /healthz reports: the database, the broker and the planner's last run."""

import datetime as dt

from django.conf import settings
from django.db import DatabaseError, connection
from kombu.exceptions import OperationalError

from tracker.celery import app
from tracker.models import PlannerRun

# The planner is late when it has missed this many of its runs in a row.
MISSED_RUNS = 3


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def broker_ok(url: str | None = None) -> bool:
    """The broker accepts a connection within CELERY_BROKER_CONNECTION_TIMEOUT."""
    try:
        with app.connection_for_write(url or settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=5)
        return True
    except (OperationalError, OSError):
        return False


def planner_last_run() -> dt.datetime | None:
    return PlannerRun.objects.order_by("-started_at").values_list("started_at", flat=True).first()


def planner_ok(last_run: dt.datetime | None, *, at: dt.datetime) -> bool:
    allowed = dt.timedelta(seconds=settings.PLANNER_SECONDS * MISSED_RUNS)
    return last_run is not None and at - last_run <= allowed
