"""Whether the Celery worker and beat are alive, from the last heartbeat, for the admin index."""

from django import template

from tracker.models import Heartbeat, WorkerHealth

register = template.Library()


@register.simple_tag
def worker_health() -> WorkerHealth:
    return Heartbeat.objects.health()
