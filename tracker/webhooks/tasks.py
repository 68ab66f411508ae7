"""The webhook tasks: beat runs the dispatcher every WEBHOOK_DISPATCH_SECONDS; each delivery is a
task of its own, so deliveries spread over every worker and scale out with them."""

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tracker.webhooks import delivery, events
from tracker.webhooks.models import Delivery

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """Post one delivery. Safe to run twice: only a due, pending row is claimed."""
    delivery.deliver(delivery_id)


@shared_task(ignore_result=True)
def dispatch_webhooks() -> dict[str, int]:
    """Release claims past their lease, write the `milestone.reached` events whose day has
    come, and queue every due delivery (after commit)."""
    return dispatch(at=timezone.now())


def dispatch(*, at: dt.datetime) -> dict[str, int]:
    lease = dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    with transaction.atomic():
        released = Delivery.objects.release_stuck(at=at, lease=lease)
        reached = events.plan_reached(at=at)
        ids = delivery.due_for_queueing(at=at, limit=settings.WEBHOOK_DISPATCH_LIMIT)
        Delivery.objects.filter(pk__in=ids).update(queued_at=at)
        events.queue_deliveries(ids)
    if released or reached or ids:
        logger.info(
            "Webhooks: %d deliveries queued, %d released from a dead worker, %d milestones reached",
            len(ids),
            released,
            reached,
        )
    return {"queued": len(ids), "released": released, "reached": reached}
