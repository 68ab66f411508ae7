from django.db import models


class Heartbeat(models.Model):
    """A row written by the worker each time beat's heartbeat task runs.

    It proves the web / beat / worker loop end to end until the reminder planner takes over.
    """

    sent_at = models.DateTimeField(
        help_text="When beat (or whoever) queued the task.", null=True, blank=True
    )
    received_at = models.DateTimeField(auto_now_add=True, help_text="When the worker ran it.")
    worker = models.CharField(max_length=200, help_text="The worker that ran the task.")
    task_id = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["-received_at"]
        get_latest_by = "received_at"

    def __str__(self) -> str:
        return f"{self.worker} at {self.received_at:%Y-%m-%d %H:%M:%S}"
