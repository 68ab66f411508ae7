"""Whether the Celery worker and beat are alive, from the planner's last run, for the admin
index (the same rule /healthz applies)."""

from django import template

from tracker.models import PlannerRun, WorkerHealth

register = template.Library()


@register.simple_tag
def worker_health() -> WorkerHealth:
    return PlannerRun.objects.health()
