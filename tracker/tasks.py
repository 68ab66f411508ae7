import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from regulation import follow_up
from tracker import follow_ups
from tracker.links import CONFIRMATION_VALID_FOR
from tracker.models import Heartbeat, PlannerRun, Reminder, Subscription
from tracker.planner import plan
from tracker.queue import enqueue_on_commit
from tracker.sender import send_batch

logger = logging.getLogger(__name__)


@shared_task(bind=True, ignore_result=True)
def heartbeat(self, sent_at: str | None = None) -> None:
    """Record that a worker is alive and consuming from the broker."""
    Heartbeat.objects.get_or_create(
        task_id=self.request.id or "eager",
        defaults={
            "worker": self.request.hostname or "unknown",
            "sent_at": dt.datetime.fromisoformat(sent_at) if sent_at else None,
        },
    )


@shared_task(ignore_result=True)
def prune_heartbeats() -> int:
    """Keep HEARTBEAT_RETENTION_DAYS of heartbeats (beat runs this every hour)."""
    return Heartbeat.objects.prune(at=timezone.now(), keep_days=settings.HEARTBEAT_RETENTION_DAYS)


@shared_task(ignore_result=True)
def plan_reminders() -> None:
    """Beat runs this every PLANNER_SECONDS: plan what is due, queue the sending; the same
    for the staff follow-ups."""
    at = timezone.now()
    plan(at=at)
    with transaction.atomic():
        follow_ups.release_stuck(at=at)
        created = follow_ups.plan_follow_ups(at=at)
        if follow_ups.has_pending():
            enqueue_on_commit(send_staff_follow_ups)
    if created:
        logger.info("Planner: %d staff follow-ups planned", created)


@shared_task(ignore_result=True)
def send_staff_follow_ups() -> None:
    follow_ups.send_follow_ups(at=timezone.now())


@shared_task(ignore_result=True)
def send_reminders(subscriber_ids: list[int]) -> None:
    """Send the due reminders of these subscribers (one batch, one SMTP connection). Safe to run
    twice: only rows still pending are claimed."""
    send_batch(subscriber_ids, at=timezone.now())


@shared_task(ignore_result=True)
def prune_reminders() -> None:
    """Delete sent and cancelled reminders and planner runs past REMINDER_RETENTION_DAYS, and
    subscription requests whose confirmation link expired."""
    at, keep = timezone.now(), settings.REMINDER_RETENTION_DAYS
    reminders = Reminder.objects.prune_sent(at=at, keep_days=keep)
    runs = PlannerRun.objects.prune(at=at, keep_days=keep)
    requests = Subscription.objects.prune_unconfirmed(at=at, valid_for=CONFIRMATION_VALID_FOR)
    logger.info(
        "Pruned %d finished reminders, %d planner runs and %d expired subscription requests",
        reminders,
        runs,
        requests,
    )


@shared_task(ignore_result=True)
def check_published_sources() -> int:
    """Report (at ERROR) any published record citing no source (beat runs this every hour)."""
    return len(follow_up.check_published_sources())


# The webhook tasks live with the webhooks; imported here so every worker registers them.
from tracker.webhooks.tasks import deliver_webhook, dispatch_webhooks  # noqa: E402, F401
