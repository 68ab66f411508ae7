"""What /healthz reports: the database, the broker, the planner's last run and the webhook
backlog."""

import datetime as dt
from dataclasses import dataclass

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


@dataclass(frozen=True)
class WebhookBacklog:
    """Deliveries due and not yet made: how many, and how long the oldest has waited."""

    due: int
    oldest_wait: dt.timedelta | None
    stale_after: dt.timedelta

    @property
    def is_healthy(self) -> bool:
        return self.oldest_wait is None or self.oldest_wait <= self.stale_after


def webhook_backlog(at: dt.datetime) -> WebhookBacklog:
    """One query: due deliveries to endpoints that take them (a paused or disabled endpoint's
    waiting deliveries are its owner's choice, not a fault)."""
    from django.db.models import Count, Min

    from tracker.webhooks.models import Delivery

    found = Delivery.objects.due(at=at).aggregate(due=Count("pk"), oldest=Min("next_attempt_at"))
    oldest = found["oldest"]
    return WebhookBacklog(
        due=found["due"],
        oldest_wait=at - oldest if oldest is not None else None,
        stale_after=dt.timedelta(seconds=settings.WEBHOOK_BACKLOG_STALE_SECONDS),
    )
