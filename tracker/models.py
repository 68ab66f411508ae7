import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone


@dataclass(frozen=True)
class WorkerHealth:
    """The last heartbeat's age: alive when beat queued it and a worker ran it recently."""

    last: "Heartbeat | None"
    age: dt.timedelta | None
    stale_after: dt.timedelta

    @property
    def is_alive(self) -> bool:
        return self.age is not None and self.age <= self.stale_after

    @property
    def age_text(self) -> str:
        if self.age is None:
            return "no heartbeat yet"
        seconds = max(int(self.age.total_seconds()), 0)
        if seconds < 120:
            return f"{seconds} seconds ago"
        if seconds < 2 * 3600:
            return f"{seconds // 60} minutes ago"
        if seconds < 2 * 86400:
            return f"{seconds // 3600} hours ago"
        return f"{seconds // 86400} days ago"


class HeartbeatQuerySet(models.QuerySet):
    def received_before(self, cutoff: dt.datetime) -> "HeartbeatQuerySet":
        return self.filter(received_at__lt=cutoff)

    def prune(self, *, at: dt.datetime, keep_days: int) -> int:
        """Delete the heartbeats received more than `keep_days` before `at`; return how many.

        Heartbeats only show that the loop is alive, so old ones are worth nothing; without
        pruning, a beat a minute grows the table by half a million rows a year.
        """
        deleted, _ = self.received_before(at - dt.timedelta(days=keep_days)).delete()
        return deleted

    def health(self, at: dt.datetime | None = None) -> WorkerHealth:
        """The worker and beat as the last heartbeat shows them at `at` (now by default); one
        query on the received_at index."""
        last = self.order_by("-received_at").first()
        age = (at or timezone.now()) - last.received_at if last else None
        stale_after = dt.timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS)
        return WorkerHealth(last=last, age=age, stale_after=stale_after)


class Heartbeat(models.Model):
    """A row written by the worker each time beat's heartbeat task runs.

    It proves the web / beat / worker loop end to end until the reminder planner takes over.
    """

    sent_at = models.DateTimeField(
        help_text="When beat (or whoever) queued the task.", null=True, blank=True
    )
    # Indexed: the admin lists and the pruning both go by it.
    received_at = models.DateTimeField(
        auto_now_add=True, db_index=True, help_text="When the worker ran it."
    )
    worker = models.CharField(max_length=200, help_text="The worker that ran the task.")
    task_id = models.CharField(max_length=100, unique=True)

    objects = HeartbeatQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        get_latest_by = "received_at"

    def __str__(self) -> str:
        return f"{self.worker} at {self.received_at:%Y-%m-%d %H:%M:%S}"
