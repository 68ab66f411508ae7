"""Reminders on the real stack when things go wrong: PostgreSQL, a real `celery worker`, real SMTP
(aiosmtpd), and a Redis broker (the test's own `redis-server` where the broker must restart).

The test plays Celery beat: it queues `tracker.tasks.plan_reminders`, and the worker runs the
planner, which queues the send batches for the same worker, as in production. Where the moment
matters the worker's clock is pinned (tests/clocked.py), so the planner and the
sender both read the pinned moment, not the test's.
"""

import asyncio
import datetime as dt
import email.utils
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.tracker.reminders import (
    LONDON,
    SinkHandler,
    SmtpServer,
    free_port,
    london,
    make_day_exact_milestone,
    make_subscriber,
    subscribe,
)
from tests.tracker.workers import Workers, redis_broker_url
from tracker.celery import app
from tracker.models import PlannerRun, Reminder, ReminderState

DELIVERY_SECONDS = 60
SITE_URL = "https://tracker.example.org"
SEND_HOUR = 9

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Stack:
    """Workers on a queue of the test's own (tests/tracker/workers.py), sending to the test's
    SMTP server, and a beat of the test's hand on the same queue."""

    workers: Workers

    @classmethod
    def on(cls, broker_url: str, smtp: SmtpServer, tmp_path: Path) -> "Stack":
        env = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_TIMEOUT": "5",
            "SITE_URL": SITE_URL,
            "REMINDER_SEND_HOUR": str(SEND_HOUR),
        }
        return cls(Workers(broker_url, tmp_path, env, queue=f"test-resilience-{uuid.uuid4().hex}"))

    @property
    def queue(self) -> str:
        return self.workers.queue

    def start_worker(self, *, clock: dt.datetime | None = None, **extra_env: str):
        """A `celery worker` process (its clock pinned to `clock` if given), once it consumes."""
        return self.workers.start(clock=clock, **extra_env)

    def stop_workers(self) -> None:
        self.workers.stop()

    def beat(self) -> int:
        """Queue one planner run, as beat does; returns how many runs there were before it."""
        before = PlannerRun.objects.count()
        # On this stack's broker, which need not be the one the settings name.
        with app.connection_for_write(self.workers.broker_url) as conn:
            app.send_task("tracker.tasks.plan_reminders", queue=self.queue, connection=conn)
        return before

    def planner_run(self) -> PlannerRun:
        """Queue a planner run and wait until the worker has recorded it."""
        before = self.beat()
        self.wait_for(
            lambda: PlannerRun.objects.count() > before, "the worker did not run the planner"
        )
        return PlannerRun.objects.order_by("-id").first()

    def plan_until(self, condition: Callable[[], object], what: str) -> None:
        """Run the planner again and again, as beat does, until `condition` holds."""
        deadline = time.monotonic() + DELIVERY_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} within {DELIVERY_SECONDS} s\n{self.logs()}")
            self.planner_run()

    def wait_for(self, condition: Callable[[], object], what: str, seconds=DELIVERY_SECONDS):
        self.workers.wait_for(condition, what, seconds)

    def logs(self) -> str:
        return self.workers.logs()

    def close(self) -> None:
        self.workers.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(transactional_db, smtp, tmp_path) -> Iterator[Stack]:
    group = Stack.on(redis_broker_url(), smtp, tmp_path)
    try:
        yield group
    finally:
        group.close()


def _recipients(smtp: SmtpServer) -> Counter:
    return Counter(address for r in smtp.received for address in r.envelope_to)


def _sent_at(message) -> dt.datetime:
    """The moment the sender put in the e-mail's Date header, in London."""
    moment = email.utils.parsedate_to_datetime(message["Date"])
    if moment.tzinfo is None:  # "-0000": the sender's clock in UTC (RFC 5322 3.3)
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LONDON)


# 1. Both DST change days: the configured local hour, not an hour early or late.

DST_CHANGE_DAYS = [
    pytest.param(dt.date(2026, 3, 29), id="clocks-go-forward"),
    pytest.param(dt.date(2026, 10, 25), id="clocks-go-back"),
]


@pytest.mark.parametrize("day", DST_CHANGE_DAYS)
def test_reminders_on_a_dst_change_day_go_out_at_the_local_send_hour(stack, smtp, day):
    today = make_day_exact_milestone(date=day, title="Codes of practice in force")
    tomorrow = make_day_exact_milestone(date=day + dt.timedelta(days=1), title="Fees regime")
    reader = make_subscriber()
    subscribe(reader, milestone=today, lead_days=[0])
    subscribe(reader, milestone=tomorrow, lead_days=[1])
    hour = london(day.year, day.month, day.day, SEND_HOUR)

    # Minutes before the hour (an hour before it in UTC on one day, the same hour on the other).
    early = stack.start_worker(clock=hour - dt.timedelta(minutes=3))
    run = stack.planner_run()
    assert run.started_at < hour, "the pinned worker took too long to start; run again"
    assert run.started_at.astimezone(LONDON).date() == day
    assert (run.planned, run.batches) == (0, 0)
    assert not Reminder.objects.exists()
    stack.stop_workers()
    assert smtp.received == []

    stack.start_worker(clock=hour)
    run = stack.planner_run()
    stack.wait_for(lambda: smtp.received, "no e-mail arrived")
    stack.wait_for(
        lambda: Reminder.objects.filter(state=ReminderState.SENT).count() == 2,
        "the reminders were not marked sent",
    )

    assert early.poll() is not None
    assert run.planned == 2
    [received] = smtp.received
    assert received.envelope_to == [reader.email]
    assert received.message["Subject"] == "2 dates you watch on the Online Safety Act tracker"
    sent = _sent_at(received.message)
    assert (sent.date(), sent.hour) == (day, SEND_HOUR)
    for reminder in Reminder.objects.all():
        local = reminder.sent_at.astimezone(LONDON)
        assert hour <= local < hour + dt.timedelta(minutes=5)
        assert reminder.claimed_at <= reminder.sent_at


# 2. The planner was down across the due moment: late, not never; past the grace window, skipped.


def test_a_planner_down_across_the_due_moment_sends_late_and_skips_past_the_grace(
    stack, smtp, settings
):
    day = dt.date(2026, 6, 10)
    # Due at 09:00 today (a day ahead), found at 15:00: six hours late.
    tomorrow = make_day_exact_milestone(date=day + dt.timedelta(days=1), title="Fees regime")
    # Due two days ago at the send hour: the edge of the grace window, still sent.
    edge = day - dt.timedelta(days=settings.REMINDER_GRACE_DAYS)
    passed = make_day_exact_milestone(date=edge, title="Register of categorised services")
    # Due three days ago: past the grace window, never sent.
    stale = make_day_exact_milestone(date=edge - dt.timedelta(days=1), title="Stale deadline")
    late_reader, edge_reader, stale_reader = make_subscriber(), make_subscriber(), make_subscriber()
    subscribe(late_reader, milestone=tomorrow, lead_days=[1])
    subscribe(edge_reader, milestone=passed, lead_days=[0])
    subscribe(stale_reader, milestone=stale, lead_days=[0])
    found_at = london(day.year, day.month, day.day, 15)
    stack.start_worker(clock=found_at)

    run = stack.planner_run()
    stack.wait_for(
        lambda: Reminder.objects.filter(state=ReminderState.SENT).count() == 2,
        "the late reminders were not sent",
    )

    assert run.planned == 2
    assert _recipients(smtp) == Counter({late_reader.email: 1, edge_reader.email: 1})
    assert not Reminder.objects.filter(milestone=stale).exists()
    [late] = smtp.handler.to(late_reader.email)
    assert late["Subject"] == "In 1 day: Fees regime"
    # A date that has passed is not "today".
    [edge_message] = smtp.handler.to(edge_reader.email)
    assert edge_message["Subject"] == f"On {passed.date_text}: Register of categorised services"
    for reminder in Reminder.objects.all():
        assert found_at <= reminder.sent_at < found_at + dt.timedelta(minutes=5)


# 3. The SMTP server is down for a while, then answers "try again later", then comes back.


class TryAgainLater(SinkHandler):
    """Answers 451 to the first message for each address in `tempfail`, then accepts."""

    def __init__(self, tempfail: set[str]) -> None:
        super().__init__()
        self.tempfail = set(tempfail)
        self.refused: Counter = Counter()

    async def handle_DATA(self, server, session, envelope):
        [address] = envelope.rcpt_tos
        if address in self.tempfail:
            self.tempfail.discard(address)
            self.refused[address] += 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_an_smtp_outage_then_recovery_loses_and_doubles_nothing(stack, smtp):
    moment = london(2026, 6, 10, 10)
    milestone = make_day_exact_milestone(date=moment.date(), title="Fees regime")
    readers = [make_subscriber() for _ in range(4)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[0])
    smtp.stop()  # connections refused
    worker = stack.start_worker(clock=moment, REMINDER_RETRY_SECONDS="1")
    log = stack.workers.processes[-1][1]

    def refusals() -> int:
        return log.read_text().count("the mail server cannot be reached")

    # Two planner runs while the server is down: each queues the batch, nothing is claimed.
    for tries in (1, 2):
        stack.planner_run()
        stack.wait_for(
            lambda tries=tries: refusals() >= tries, "the sender did not try the mail server"
        )
    assert smtp.received == []
    pending = Reminder.objects.filter(state=ReminderState.PENDING, attempts=0, claim=None)
    assert pending.count() == 4

    # Back, but refusing the first message for two readers for now: those wait and retry.
    flaky = {readers[0].email, readers[2].email}
    smtp.handler = TryAgainLater(flaky)
    smtp.start()
    sent = Reminder.objects.filter(state=ReminderState.SENT)
    stack.plan_until(
        lambda: sent.count() == 4,
        "the reminders were not all sent once the server came back",
    )

    assert worker.poll() is None
    assert smtp.handler.refused == Counter(dict.fromkeys(flaky, 1))
    assert _recipients(smtp) == Counter({reader.email: 1 for reader in readers})
    for reminder in Reminder.objects.select_related("subscription__subscriber"):
        retried = reminder.subscription.subscriber.email in flaky
        assert reminder.attempts == (2 if retried else 1)
        assert reminder.last_error == ""
        if retried:  # not before its backoff ran out
            assert reminder.not_before is not None
            assert reminder.sent_at >= reminder.not_before


# 4. The broker restarts: nothing depends on a queued message surviving.


@dataclass
class RedisServer:
    """A redis-server of the test's own, on a free port: killed and restarted at will."""

    directory: Path
    persistent: bool
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        persistence = ["--appendonly", "yes", "--appendfsync", "always"]
        command = [
            *(
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
            ),
            *("--save", ""),
            *(persistence if self.persistent else ["--appendonly", "no"]),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def private_redis(tmp_path, request) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory, persistent=request.param)
    server.start()
    yield server
    server.kill()


class HoldFirst(SinkHandler):
    """Holds the first message's conversation until released, then accepts it."""

    def __init__(self) -> None:
        super().__init__()
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if not self.holding.is_set():
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize(
    "private_redis", [False, True], ids=["without-persistence", "with-persistence"], indirect=True
)
def test_a_broker_restart_mid_run_delivers_every_reminder_exactly_once(
    transactional_db, private_redis, smtp, tmp_path
):
    handler = HoldFirst()
    smtp.handler = handler
    smtp.stop()
    smtp.start()
    moment = london(2026, 6, 10, 10)
    milestone = make_day_exact_milestone(date=moment.date(), title="Fees regime")
    readers = [make_subscriber() for _ in range(6)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[0])
    stack = Stack.on(private_redis.url, smtp, tmp_path)
    try:
        # Three batches of two: the first is in the middle of its first e-mail when the broker
        # dies, the other two wait in the queue (lost with it unless the broker persists them).
        stack.start_worker(clock=moment, REMINDER_BATCH_SIZE="2")
        run = stack.planner_run()
        assert (run.planned, run.batches) == (6, 3)
        stack.wait_for(handler.holding.is_set, "the first e-mail was not started")
        private_redis.kill()
        handler.release.set()
        sent = Reminder.objects.filter(state=ReminderState.SENT)
        stack.wait_for(lambda: sent.count() == 2, "the first batch did not finish")
        assert Reminder.objects.filter(state=ReminderState.PENDING).count() == 4
        private_redis.start()
        if not private_redis.persistent:  # the two queued batches died with the broker
            with redis.Redis(port=private_redis.port) as client:
                assert client.llen(stack.queue) == 0

        stack.plan_until(
            lambda: sent.count() == 6,
            "the reminders were not all sent after the broker came back",
        )
        # One more run once all is sent: nothing left to queue, nothing sent again.
        assert stack.planner_run().batches == 0
    finally:
        stack.stop_workers()

    assert _recipients(smtp) == Counter({reader.email: 1 for reader in readers})
    assert Reminder.objects.count() == 6
