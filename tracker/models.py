import datetime as dt

from django.db import models


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
