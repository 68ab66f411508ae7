"""Real `celery worker` processes for the real-stack tests: started with an environment that
opens the test's own database, on a queue of the test's own (so no other worker on the same
broker takes its tasks), killed (SIGKILL, main process and pool) and the queue removed at the
end. A worker reads the suite's clock, or one pinned for it (tests/clocked.py)."""

import datetime as dt
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.clocked import python_module
from tracker.celery import app

BASE_DIR = Path(__file__).resolve().parents[2]
WORKER_START_SECONDS = 60
WAIT_SECONDS = 60


def database_url() -> str:
    """A URL for the database this test is using (pytest-django's test database)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the workers need a database another process can open (run `make test`)")
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def redis_broker_url() -> str:
    url = app.conf.broker_url
    if not url.startswith("redis://"):
        pytest.skip("the real-stack tests need the Redis broker (run `make test`)")
    return url


@dataclass
class Workers:
    """`celery worker` processes on one queue. `env`: settings for every worker."""

    broker_url: str
    tmp_path: Path
    env: dict[str, str] = field(default_factory=dict)
    queue: str = field(default_factory=lambda: f"test-workers-{uuid.uuid4().hex}")
    processes: list[tuple[subprocess.Popen, Path]] = field(default_factory=list)

    def environment(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-only-secret-key",
            "VAR_DIR": str(self.tmp_path / "var"),
            **self.env,
            **extra,
        }

    def start(
        self, *, clock: dt.datetime | None = None, extra_args: Sequence[str] = (), **extra_env: str
    ) -> subprocess.Popen:
        """A worker (its clock pinned to `clock` if given; `extra_args` for `celery worker`),
        once it consumes from the queue."""
        number = len(self.processes) + 1
        hostname = f"{self.queue}-{number}@localhost"
        log_path = self.tmp_path / f"worker-{number}.log"
        env = self.environment(**extra_env)
        if clock is not None:
            env["PINNED_CLOCK"] = clock.isoformat()
        command = [
            *python_module("celery", "-A", "tracker", "worker"),
            *("--loglevel=INFO", "--concurrency=1"),
            *(f"--hostname={hostname}", "--without-gossip", "--without-mingle"),
            "--without-heartbeat",
            *extra_args,
        ]
        with log_path.open("w") as log:
            # A session of its own, so that kill() stops the main process and its pool at once.
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append((process, log_path))
        # The worker logs "ready" once it consumes from its queue. (A ping would not do for a
        # worker whose clock is far from the test's: control messages carry an expiry time.)
        self.wait_for(
            lambda: process.poll() is not None or f"{hostname} ready." in log_path.read_text(),
            "the worker did not start",
            seconds=WORKER_START_SECONDS,
        )
        if process.poll() is not None:
            pytest.fail(f"the worker stopped:\n{self.logs()}")
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL, main process and pool: nothing gets to finish, mark or requeue."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process, _ in self.processes:
            self.kill(process)

    def wait_for(
        self, condition: Callable[[], object], what: str, seconds: float = WAIT_SECONDS
    ) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} within {seconds} s\n{self.logs()}")
            time.sleep(0.1)

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()}" for _, path in self.processes)

    def close(self) -> None:
        """Stop every worker and remove the queue from the broker."""
        self.stop()
        with app.connection_for_write(self.broker_url) as conn:
            client = conn.channel().client
            client.delete(
                self.queue, f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}"
            )


@contextmanager
def workers_on_a_queue_of_their_own(tmp_path: Path, **env: str) -> Iterator[Workers]:
    """Workers on the test broker and a queue of the test's own, to which this process queues
    its tasks too (the planner, the dispatcher) while the test runs."""
    group = Workers(redis_broker_url(), tmp_path, env)
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = group.queue
    try:
        yield group
    finally:
        app.conf.task_default_queue = default_queue
        group.close()
