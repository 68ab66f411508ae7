"""Tasks are not lost: a real worker on Redis is killed mid-task, and a silent broker cannot hang
a request. The test tasks live in tests/tracker/delivery_tasks.py (the worker imports it)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.tracker.delivery_tasks import slow_task
from tests.tracker.workers import BASE_DIR, Workers, redis_broker_url
from tracker.queue import enqueue_on_commit

TASK_SECONDS = 2.0
# Short limits so a dead worker's task comes back in seconds, not minutes. The visibility
# timeout must stay above the hard time limit (the settings refuse anything else). Redis keeps
# one list of unacknowledged tasks per database, so these workers would also hand out the tasks
# of any other worker on the same Redis database: the tests need a database of their own.
SHORT_LIMITS = {
    "CELERY_TASK_SOFT_TIME_LIMIT": "4",
    "CELERY_TASK_TIME_LIMIT": "5",
    "WEBHOOK_TIMEOUT_SECONDS": "3",  # a delivery must end within the soft time limit
    "CELERY_VISIBILITY_TIMEOUT": "6",
}


@pytest.fixture
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(redis_broker_url())


@pytest.fixture
def workers(tmp_path, redis_client) -> Iterator[Workers]:
    """`celery worker` processes on a queue of the test's own, importing the test tasks."""
    group = Workers(redis_broker_url(), tmp_path, queue=f"test-delivery-{uuid.uuid4().hex}")
    yield group
    group.close()
    redis_client.delete(f"{group.queue}:started", f"{group.queue}:completed")


def start(workers: Workers, **extra_env: str):
    return workers.start(extra_args=["--include=tests.tracker.delivery_tasks"], **extra_env)


def _started_pids(client: redis.Redis, queue: str) -> list[int]:
    return [int(pid) for pid in client.lrange(f"{queue}:started", 0, -1)]


def _completed(client: redis.Redis, queue: str) -> int:
    return int(client.get(f"{queue}:completed") or 0)


def test_a_task_whose_worker_is_killed_runs_on_the_next_worker(workers, redis_client):
    queue = workers.queue
    first = start(workers, **SHORT_LIMITS)
    slow_task.apply_async(args=[queue, TASK_SECONDS], queue=queue)
    workers.wait_for(lambda: _started_pids(redis_client, queue), "the task did not start", 20)

    workers.kill(first)  # main process and pool: nothing gets to ack or requeue
    assert _completed(redis_client, queue) == 0
    start(workers, **SHORT_LIMITS)

    workers.wait_for(
        lambda: _completed(redis_client, queue) == 1,
        "the task did not run to completion on the second worker",
        40,
    )
    assert len(_started_pids(redis_client, queue)) == 2


def test_a_task_whose_pool_process_is_killed_is_redelivered_not_acked(workers, redis_client):
    queue = workers.queue
    start(workers)
    slow_task.apply_async(args=[queue, TASK_SECONDS], queue=queue)
    workers.wait_for(lambda: _started_pids(redis_client, queue), "the task did not start", 20)

    os.kill(_started_pids(redis_client, queue)[0], signal.SIGKILL)

    workers.wait_for(
        lambda: _completed(redis_client, queue) == 1,
        "the task killed in its pool process was not run again",
        20,
    )
    assert len(_started_pids(redis_client, queue)) == 2


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a hung broker. Yields its URL."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


# Queue a heartbeat the way a request would, in a process configured for the silent broker.
PUBLISH_SCRIPT = """
import django
django.setup()
from tracker.queue import TaskNotQueued, enqueue_on_commit
from tracker.tasks import heartbeat
try:
    enqueue_on_commit(heartbeat)
except TaskNotQueued as error:
    print("not queued:", error)
else:
    print("queued")
"""
# Generous: the settings bound publishing to a few seconds; the rest is the interpreter starting.
# Without them this publish blocked for more than 400 s.
PUBLISH_BOUND_SECONDS = 30


def test_publishing_to_a_silent_broker_fails_quickly_and_is_logged(silent_broker, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "CELERY_BROKER_URL": silent_broker,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-only-secret-key",
        "VAR_DIR": str(tmp_path / "var"),
    }
    try:
        result = subprocess.run(
            [sys.executable, "-c", PUBLISH_SCRIPT],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=PUBLISH_BOUND_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"publishing to a silent broker blocked for over {PUBLISH_BOUND_SECONDS} s")

    assert result.stdout.startswith("not queued: tracker.tasks.heartbeat was not queued"), (
        result.stdout + result.stderr
    )
    assert "Could not queue tracker.tasks.heartbeat" in result.stderr


@pytest.mark.django_db
def test_a_task_is_queued_only_when_the_transaction_commits(
    workers, redis_client, django_capture_on_commit_callbacks
):
    queue = workers.queue  # no worker started: the task stays on the queue
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit(slow_task, args=[queue, 0], queue=queue)
        assert redis_client.llen(queue) == 0

    for callback in callbacks:
        callback()
    assert redis_client.llen(queue) == 1


def test_a_visibility_timeout_within_the_time_limit_stops_start_up(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "SECRET_KEY": "test-only-secret-key",
        "VAR_DIR": str(tmp_path / "var"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CELERY_TASK_TIME_LIMIT": "300",
        "CELERY_VISIBILITY_TIMEOUT": "300",
    }
    code = "import django; django.setup()"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT" in result.stderr
