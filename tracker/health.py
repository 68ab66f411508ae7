"""What /healthz reports: the database, the broker and the planner's last run."""

import datetime as dt

from django.conf import settings
from django.db import DatabaseError, connection
from kombu.exceptions import OperationalError

from tracker.celery import app
from tracker.models import PlannerRun, WorkerHealth


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


def planner_health(at: dt.datetime) -> WorkerHealth:
    return PlannerRun.objects.health(at=at)
