"""Test-only tasks for the delivery tests; the test worker imports this module with `--include`.

They record what happened in Redis (the broker the tests already need), not in the database, so a
killed worker cannot leave a half-written row or a held lock behind.
"""

import os
import time

import redis
from celery import shared_task
from django.conf import settings


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@shared_task(name="tests.slow_task", ignore_result=True)
def slow_task(key: str, seconds: float) -> None:
    """Say which process started the run, take `seconds`, then count a completed run."""
    client = _redis()
    client.rpush(f"{key}:started", os.getpid())
    time.sleep(seconds)
    client.incr(f"{key}:completed")
