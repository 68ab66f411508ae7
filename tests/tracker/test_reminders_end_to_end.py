"""Reminders on the real stack: PostgreSQL, the Redis broker, real `celery worker` processes and
a real SMTP server (aiosmtpd). The planner runs in the test process with its reference time
given (`at=`); the workers send on their own clock."""

import asyncio
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import connections
from django.utils import timezone

from regulation.models import DeliveryStatus
from tests.factories import make_commitment, make_platform, make_source
from tests.tracker.reminders import (
    SinkHandler,
    SmtpServer,
    make_day_exact_milestone,
    make_subscriber,
    subscribe,
)
from tests.tracker.workers import Workers, workers_on_a_queue_of_their_own
from tracker.models import Reminder, ReminderKind, ReminderState, Subscriber, Subscription
from tracker.planner import plan

DELIVERY_SECONDS = 40
SITE_URL = "https://tracker.example.org"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def workers(transactional_db, smtp, tmp_path, settings) -> Iterator[Workers]:
    """Workers on a queue of the test's own; the planner in this process queues to it too."""
    settings.SITE_URL = SITE_URL
    settings.REMINDER_SEND_HOUR = 0  # due as soon as the day begins: the workers' clock is real
    with workers_on_a_queue_of_their_own(
        tmp_path,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        EMAIL_TIMEOUT="5",
        SITE_URL=SITE_URL,
    ) as group:
        yield group


def _wait_for(condition, what: str, workers: Workers, seconds: float = DELIVERY_SECONDS) -> None:
    workers.wait_for(condition, what, seconds)


def _today() -> dt.date:
    return timezone.localdate()


def _recipients(smtp: SmtpServer) -> Counter:
    return Counter(address for r in smtp.received for address in r.envelope_to)


def test_a_confirmed_subscriber_gets_the_reminder_by_email_through_a_real_worker(workers, smtp):
    deadline = _today() + dt.timedelta(days=7)
    milestone = make_day_exact_milestone(date=deadline, title="Children's risk assessments due")
    subscriber = Subscriber.objects.create(email="reader@example.org")
    subscribe(subscriber, milestone=milestone, lead_days=[30, 7, 1, 0]).confirm(at=timezone.now())
    workers.start()

    plan(at=timezone.now())

    _wait_for(lambda: smtp.received, "no e-mail arrived", workers)
    [received] = smtp.received
    message = received.message
    assert received.envelope_to == ["reader@example.org"]
    assert message["Subject"] == "In 7 days: Children's risk assessments due"
    assert str(message["List-Unsubscribe"]).strip().startswith(f"<{SITE_URL}/reminders/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert f"{SITE_URL}{milestone.get_absolute_url()}" in text
    _wait_for(
        lambda: Reminder.objects.filter(state=ReminderState.SENT).count() == 1,
        "the reminder was not marked sent",
        workers,
    )


def test_unconfirmed_and_unsubscribed_addresses_get_nothing(workers, smtp):
    milestone = make_day_exact_milestone(date=_today())
    unconfirmed = make_subscriber(confirmed=False)
    leaver, reader = make_subscriber(), make_subscriber()
    for subscriber in (unconfirmed, leaver, reader):
        subscribe(subscriber, milestone=milestone, lead_days=[0])
    leaver.unsubscribe(at=timezone.now())
    workers.start()

    plan(at=timezone.now())

    _wait_for(lambda: smtp.received, "no e-mail arrived", workers)
    time.sleep(1)  # time for any e-mail that should not exist to arrive too
    assert _recipients(smtp) == Counter({reader.email: 1})


def test_two_planners_and_two_workers_at_once_send_exactly_one_email_each(workers, smtp, settings):
    settings.REMINDER_BATCH_SIZE = 4
    milestone = make_day_exact_milestone(date=_today() + dt.timedelta(days=1))
    readers = [make_subscriber() for _ in range(20)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[1])
    workers.start()
    workers.start()
    at = timezone.now()
    errors: list[BaseException] = []

    def run_planner() -> None:
        try:
            plan(at=at)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    planners = [threading.Thread(target=run_planner) for _ in range(2)]
    for planner in planners:
        planner.start()
    for planner in planners:
        planner.join()

    assert errors == []
    _wait_for(lambda: len(smtp.received) >= 20, "not every reader got an e-mail", workers)
    time.sleep(1)  # time for a second copy, were there one
    assert _recipients(smtp) == Counter({r.email: 1 for r in readers})
    assert Reminder.objects.count() == 20


class BlockingHandler(SinkHandler):
    """Holds the conversation on the n-th message until released, then refuses it: the test
    kills the worker in the middle of an SMTP conversation, before the server accepted it."""

    def __init__(self, hold_at: int) -> None:
        super().__init__()
        self.hold_at, self.messages = hold_at, 0
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        if self.messages == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Connection lost"
        return await super().handle_DATA(server, session, envelope)


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(workers, smtp, settings):
    settings.REMINDER_LEASE_SECONDS = 60
    handler = BlockingHandler(hold_at=3)
    smtp.handler = handler
    smtp.stop()
    smtp.start()
    milestone = make_day_exact_milestone(date=_today())
    readers = [make_subscriber() for _ in range(6)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[0])
    first = workers.start()

    plan(at=timezone.now())
    _wait_for(handler.holding.is_set, "the third e-mail was not started", workers)
    workers.kill(first)  # SIGKILL, main process and pool: nothing gets to mark or requeue
    handler.release.set()
    assert len(smtp.received) == 2
    # The batch claimed its six rows at once: two sent, the third's conversation cut, and the
    # last three never started, all left in sending by the dead worker.
    assert Reminder.objects.filter(state=ReminderState.SENT).count() == 2
    assert Reminder.objects.filter(state=ReminderState.SENDING).count() == 4

    workers.start()
    # Within the lease a planner run leaves them alone and queues nothing...
    within = plan(at=timezone.now())
    assert (within.released, within.batches) == (0, 0)
    # ...the first run after the lease puts the dead worker's rows back and queues them.
    after = plan(at=timezone.now() + dt.timedelta(seconds=61))
    assert (after.released, after.batches) == (4, 1)

    _wait_for(lambda: len(smtp.received) >= 6, "not every reader got an e-mail", workers)
    time.sleep(1)
    assert _recipients(smtp) == Counter({r.email: 1 for r in readers})
    _wait_for(
        lambda: Reminder.objects.filter(state=ReminderState.SENT).count() == 6,
        "not every reminder was marked sent",
        workers,
    )


def test_a_date_moved_after_planning_sends_for_the_new_date_only(workers, smtp):
    milestone = make_day_exact_milestone(date=_today() + dt.timedelta(days=7))
    reader = make_subscriber()
    subscribe(reader, milestone=milestone, lead_days=[7, 1])
    # Planned with no worker running: the reminder waits in the outbox.
    plan(at=timezone.now())
    new_date = _today() + dt.timedelta(days=1)
    milestone.move_to(new_date, reason="Brought forward by the regulator.")
    workers.start()

    plan(at=timezone.now())

    _wait_for(lambda: smtp.received, "no e-mail arrived", workers)
    time.sleep(1)
    [received] = smtp.received
    assert received.message["Subject"] == f"In 1 day: {milestone.title}"
    # The same e-mail tells of the move.
    assert "Date changed:" in received.message.get_body(("plain",)).get_content()
    old_date = new_date + dt.timedelta(days=6)
    assert Reminder.objects.get(planned_for=old_date).state == ReminderState.CANCELLED
    day_reminder = Reminder.objects.filter(planned_for=new_date, kind=ReminderKind.DAY)
    _wait_for(
        lambda: day_reminder.get().state == ReminderState.SENT,
        "the reminder for the new date was not marked sent",
        workers,
    )


def test_a_commitment_status_change_reaches_its_watchers_once_through_a_real_worker(workers, smtp):
    platform = make_platform(name="PhotoShare")
    commitment = make_commitment(platforms=[platform], summary="We will check every age.")
    watcher = Subscription.request("watcher@example.org", lead_days=[], commitment=commitment)
    watcher.confirm(at=timezone.now())
    on_platform = subscribe(make_subscriber(), platform=platform)
    make_subscriber(confirmed=False)  # asked for nothing it confirmed
    subscribe(make_subscriber(confirmed=False), commitment=commitment)
    evidence = make_source(title="PhotoShare blog", url="https://photoshare.example/blog")
    commitment.record_update(
        on=_today(), delivery_status=DeliveryStatus.DELIVERED, note="Live.", evidence=evidence
    )
    workers.start()

    plan(at=timezone.now())
    plan(at=timezone.now())

    _wait_for(lambda: len(smtp.received) >= 2, "the watchers did not get their notices", workers)
    time.sleep(1)  # time for a second copy, were there one
    assert _recipients(smtp) == Counter({"watcher@example.org": 1, on_platform.subscriber.email: 1})
    message = smtp.handler.to("watcher@example.org")[0]
    assert message["Subject"] == "Status changed to Delivered: We will check every age."
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert "Status changed: Announced → Delivered" in text
    assert "https://photoshare.example/blog" in text
    assert f"{SITE_URL}{commitment.get_absolute_url()}" in text
    _wait_for(
        lambda: (
            Reminder.objects.filter(
                kind=ReminderKind.STATUS_CHANGED, state=ReminderState.SENT
            ).count()
            == 2
        ),
        "the notices were not marked sent",
        workers,
    )
