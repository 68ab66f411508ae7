import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from regulation import follow_up
from tracker.models import Heartbeat


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
def check_published_sources() -> int:
    """Report (at ERROR) any published record citing no source (beat runs this every hour)."""
    return len(follow_up.check_published_sources())
