"""Webhooks on the real stack: PostgreSQL, the Redis broker, real `celery worker` processes and a
real HTTP receiver on 127.0.0.1. A date moved in the admin reaches the receiver once, signed;
a 500 is retried by the worker with the same id; a worker killed mid-delivery loses nothing.
The dispatcher runs in the test process, as beat would run it."""

import datetime as dt
import time

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.factories import make_milestone, make_source
from tests.tracker.webhook_receiver import Receiver
from tests.tracker.workers import Workers, workers_on_a_queue_of_their_own
from tracker.webhooks.models import Delivery, DeliveryState, Endpoint, EventType
from tracker.webhooks.tasks import dispatch

pytestmark = pytest.mark.django_db(transaction=True)
SECONDS = 40
SITE_URL = "https://tracker.example.org"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def workers(transactional_db, tmp_path, settings):
    settings.SITE_URL = SITE_URL
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    with workers_on_a_queue_of_their_own(
        tmp_path,
        SITE_URL=SITE_URL,
        WEBHOOK_ALLOW_LOOPBACK="true",
        WEBHOOK_RETRY_SECONDS="1",
        WEBHOOK_TIMEOUT_SECONDS="20",
    ) as group:
        yield group


def _wait_for(condition, what: str, workers: Workers, *, dispatching: bool = False) -> None:
    """Wait, running the dispatcher every half second when asked (beat's part)."""
    deadline = time.monotonic() + SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {SECONDS} s\n{workers.logs()}")
        if dispatching:
            dispatch(at=timezone.now())
        time.sleep(0.5)


def _endpoint(receiver: Receiver) -> Endpoint:
    owner = User.objects.create_user("newsroom", "hooks@newsroom.example", "a-long-password-1")
    return Endpoint.objects.create(
        owner=owner, url=receiver.url(), events=[EventType.MILESTONE_DATE_CHANGED]
    )


def test_a_date_moved_in_the_admin_reaches_the_receiver_once_signed(workers, receiver, client):
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision="day")
    source = make_source()
    endpoint = _endpoint(receiver)
    workers.start()
    editor = User.objects.create_superuser("editor", "editor@example.org", "a-long-password-3")
    client.force_login(editor)

    answer = client.post(
        reverse("admin:regulation_milestone_change", args=[milestone.pk]),
        {
            "title": milestone.title,
            "kind": milestone.kind,
            "date": "2026-09-15",
            "date_precision": "day",
            "certainty": milestone.certainty,
            "status": milestone.status,
            "verification": milestone.verification,
            "sources": [s.pk for s in milestone.sources.all()],
            "date_change_reason": "Ofcom's revised roadmap",
            "date_change_source": source.pk,
            "date_changes-TOTAL_FORMS": 0,
            "date_changes-INITIAL_FORMS": 0,
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]

    _wait_for(lambda: receiver.received, "no delivery arrived", workers)
    time.sleep(1)  # time for a second copy, were one coming
    [received] = receiver.received
    body = Webhook(endpoint.secret).verify(received.body, received.headers)
    assert body["type"] == "milestone.date_changed"
    assert body["data"]["change"]["new"]["date"] == "2026-09-15"
    assert body["data"]["change"]["reason"] == "Ofcom's revised roadmap"
    delivery = Delivery.objects.get()
    assert received.headers["webhook-id"] == str(delivery.event_id)
    _wait_for(
        lambda: Delivery.objects.get().state == DeliveryState.DELIVERED,
        "the delivery was not marked delivered",
        workers,
    )


def test_a_500_is_retried_by_the_worker_with_the_same_id(workers, receiver):
    receiver.answers = [(500, {}), (503, {}), (200, {})]
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision="day")
    endpoint = _endpoint(receiver)
    workers.start()

    milestone.move_to(dt.date(2026, 8, 3), reason="Slipped", source=make_source())

    _wait_for(
        lambda: len(receiver.received) >= 3, "the retries did not arrive", workers, dispatching=True
    )
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 1
    for received in receiver.received:
        Webhook(endpoint.secret).verify(received.body, received.headers)
    _wait_for(
        lambda: Delivery.objects.get().state == DeliveryState.DELIVERED,
        "the delivery was not marked delivered",
        workers,
    )
    assert list(Delivery.objects.get().log.values_list("status_code", flat=True)) == [500, 503, 200]


def test_a_worker_killed_mid_delivery_is_delivered_again_with_the_same_id(
    workers, receiver, settings
):
    settings.WEBHOOK_LEASE_SECONDS = 3
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision="day")
    endpoint = _endpoint(receiver)
    receiver.hold.set()
    first = workers.start()

    milestone.move_to(dt.date(2026, 8, 3), reason="Slipped", source=make_source())

    _wait_for(receiver.holding.is_set, "the delivery was not started", workers)
    workers.kill(first)  # SIGKILL, main process and pool, while the receiver holds the request
    receiver.hold.clear()
    receiver.release.set()
    assert Delivery.objects.get().state == DeliveryState.SENDING
    workers.start()

    # The dispatcher returns the dead worker's claim to pending once its lease has passed.
    _wait_for(
        lambda: Delivery.objects.get().state == DeliveryState.DELIVERED,
        "the delivery was not made again",
        workers,
        dispatching=True,
    )
    assert len(receiver.received) == 2
    first_post, second_post = receiver.received
    assert first_post.headers["webhook-id"] == second_post.headers["webhook-id"]
    Webhook(endpoint.secret).verify(second_post.body, second_post.headers)
