"""Queue tasks the one way the tracker does: after the transaction commits, never silently.

Use `enqueue_on_commit(task, args=[...])` for every task a request or a model method queues
(the reminders included) instead of calling `.delay()` yourself:

- the task is published only once the surrounding transaction commits, so a worker never looks
  for a row that is not there yet, and a rolled-back change queues nothing;
- publishing is bounded by the broker timeouts and retry policy in settings (CELERY_BROKER_TIMEOUT),
  so a broker that is down or silent costs the request a few seconds, not minutes;
- a publish that fails is logged at ERROR on the `tracker.queue` logger and raised as
  `TaskNotQueued`: the caller's data is already committed, so the caller (or the periodic job
  that plans the work) must be able to queue it again. Pass ids, not model instances.
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from celery import Task
from celery.result import AsyncResult
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


class TaskNotQueued(Exception):
    """The broker could not be reached in time; the task was not queued."""


def publish(
    task: Task,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> AsyncResult:
    """Send `task` to the broker now; log and raise TaskNotQueued if the broker does not take it."""
    try:
        return task.apply_async(args=args, kwargs=kwargs, **options)
    except (OperationalError, OSError) as error:
        logger.error("Could not queue %s (args=%r, kwargs=%r): %s", task.name, args, kwargs, error)
        raise TaskNotQueued(f"{task.name} was not queued: {error}") from error


def enqueue_on_commit(
    task: Task,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    using: str | None = None,
    **options: Any,
) -> None:
    """Publish `task` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: publish(task, args, kwargs, **options), using=using)
