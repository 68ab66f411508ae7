"""The web / broker / worker loop, end to end: a real Celery worker on the real broker."""

import datetime as dt
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from tests.clocked import python_module
from tests.tracker.workers import database_url
from tracker.celery import app
from tracker.models import Heartbeat
from tracker.tasks import heartbeat

BASE_DIR = Path(__file__).resolve().parents[2]
WORKER_START_SECONDS = 30
TASK_SECONDS = 30


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A `celery -A tracker worker` process consuming a queue of its own.

    Yields (queue, hostname). The queue is unique to this run, so no other worker on the same
    broker can take the test's task.
    """
    broker_url = app.conf.broker_url
    if not broker_url.startswith("redis://"):
        pytest.skip("the worker test needs the Redis broker (run `make test`)")
    queue = f"test-heartbeat-{uuid.uuid4().hex}"
    hostname = f"{queue}@localhost"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-only-secret-key",
        "VAR_DIR": str(tmp_path / "var"),
    }
    command = [
        *python_module("celery", "-A", "tracker", "worker"),
        *("--loglevel=INFO", "--concurrency=1", f"--hostname={hostname}"),
        *("--without-gossip", "--without-mingle"),
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not become ready:\n{log_path.read_text()}")
        yield queue, hostname
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.django_db(transaction=True)
def test_heartbeat_runs_on_a_real_worker(celery_worker):
    queue, hostname = celery_worker
    sent_at = dt.datetime.now(dt.UTC).replace(microsecond=0)

    result = heartbeat.apply_async(kwargs={"sent_at": sent_at.isoformat()}, queue=queue)

    deadline = time.monotonic() + TASK_SECONDS
    row = None
    while row is None and time.monotonic() < deadline:
        row = Heartbeat.objects.filter(task_id=result.id).first()
        if row is None:
            time.sleep(0.2)
    assert row is not None, f"no heartbeat recorded within {TASK_SECONDS} s"
    assert row.worker == hostname
    assert row.sent_at == sent_at
    assert row.received_at >= sent_at


def test_staff_see_heartbeats_in_the_admin(admin_client):
    Heartbeat.objects.create(task_id="abc-123", worker="celery@example-host")

    response = admin_client.get(reverse("admin:tracker_heartbeat_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "celery@example-host" in page
    assert "abc-123" in page
