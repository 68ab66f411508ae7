"""Webhooks: events written with the change that causes them, deliveries posted to a real local
HTTP receiver and verified with the Standard Webhooks reference library, retries, refusals, the
endpoint API's permission matrix, the admin and /healthz. (A real Celery worker delivers in
test_webhooks_end_to_end.py.)"""

import contextlib
import datetime as dt
import logging
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from regulation.models import DeliveryStatus, Milestone
from tests.factories import (
    make_commitment,
    make_milestone,
    make_observation,
    make_platform,
    make_source,
)
from tests.tracker.webhook_receiver import Receiver
from tracker.webhooks import delivery as delivering
from tracker.webhooks.events import plan_reached
from tracker.webhooks.models import (
    Delivery,
    DeliveryState,
    Endpoint,
    Event,
    EventType,
)
from tracker.webhooks.tasks import dispatch

# Registering resolves the URL's name: answered from a table, so no DNS query leaves the machine.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hosts_file")]


@pytest.fixture(autouse=True)
def generous_throttles(settings):
    settings.API_THROTTLE_RATES = {"anonymous": "100000/minute", "token": "100000/minute"}
    settings.SITE_URL = "https://tracker.example.org"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def loopback(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True


@pytest.fixture
def client_user(db) -> User:
    return User.objects.create_user("newsroom", "hooks@newsroom.example", "a-long-password-1")


@pytest.fixture
def other_user(db) -> User:
    return User.objects.create_user("other", "other@example.org", "a-long-password-2")


def token_client(user: User) -> APIClient:
    _, token = AuthToken.objects.create(user, expiry=dt.timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def make_endpoint(owner: User, url: str = "https://hooks.example.org/in", **fields) -> Endpoint:
    return Endpoint.objects.create(owner=owner, url=url, **fields)


def verify(received, secret: str) -> dict:
    return Webhook(secret).verify(received.body, received.headers)


def move(milestone: Milestone, days: int = 14, **fields):
    return milestone.move_to(
        milestone.date + dt.timedelta(days=days),
        reason=fields.pop("reason", "Ofcom's revised roadmap"),
        source=fields.pop("source", None) or make_source(),
        **fields,
    )


# --- Events ------------------------------------------------------------------------------------


def test_a_moved_date_writes_its_event_and_deliveries_in_the_same_transaction(client_user):
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision="day")
    endpoint = make_endpoint(client_user)

    move(milestone, days=30, reason="Delayed by the consultation")

    event = Event.objects.get(type=EventType.MILESTONE_DATE_CHANGED)
    change = event.payload["change"]
    assert (change["old"]["date"], change["new"]["date"]) == ("2026-07-01", "2026-07-31")
    assert change["reason"] == "Delayed by the consultation"
    assert change["source"]["url"].startswith("https://tracker.example.org/api/v1/sources/")
    assert event.payload["milestone"]["date"]["start"] == "2026-07-31"
    assert event.payload["links"]["page"].startswith("https://tracker.example.org/")
    assert list(Delivery.objects.values_list("endpoint", "event", "state")) == [
        (endpoint.pk, event.pk, DeliveryState.PENDING)
    ]


def test_a_rolled_back_move_leaves_no_event_and_no_delivery(client_user):
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision="day")
    make_endpoint(client_user)

    with pytest.raises(RuntimeError), transaction.atomic():
        move(milestone)
        raise RuntimeError("the editor's request failed after the move")

    assert not Event.objects.filter(type=EventType.MILESTONE_DATE_CHANGED).exists()
    assert not Delivery.objects.exists()


def test_a_draft_milestone_moving_tells_no_one(client_user):
    make_endpoint(client_user)
    draft = make_milestone(status="draft", date=dt.date(2026, 7, 1), date_precision="day")

    move(draft)

    assert not Event.objects.exists()


def test_a_date_confirmed_where_it_was_is_milestone_confirmed_only(client_user):
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision="day", certainty="expected")
    make_endpoint(client_user)
    Event.objects.all().delete()

    milestone.move_to(milestone.date, certainty="confirmed", reason="Laid before Parliament")

    assert list(Event.objects.values_list("type", flat=True)) == [EventType.MILESTONE_CONFIRMED]


def test_a_commitment_status_change_carries_its_evidence(client_user):
    make_endpoint(client_user, events=[EventType.COMMITMENT_STATUS_CHANGED])
    commitment = make_commitment(delivery_status=DeliveryStatus.ANNOUNCED)
    evidence = make_source(title="Transparency report")

    commitment.record_update(
        on=dt.date(2025, 6, 1), delivery_status=DeliveryStatus.DELIVERED, evidence=evidence
    )

    event = Event.objects.get(type=EventType.COMMITMENT_STATUS_CHANGED)
    assert (event.payload["old_status"], event.payload["new_status"]) == ("announced", "delivered")
    assert event.payload["update"]["evidence"]["label"] == "Transparency report"
    assert event.payload["commitment"]["delivery_status"] == "delivered"
    assert Delivery.objects.filter(event=event).count() == 1


def test_publishing_and_unpublishing_are_events(client_user):
    make_endpoint(client_user)
    milestone = make_milestone()  # published by the factory, through publish()

    milestone.unpublish()

    published, unpublished = Event.objects.order_by("created_at")
    assert published.type == EventType.RECORD_PUBLISHED
    assert published.payload["record"]["title"] == milestone.title
    assert unpublished.type == EventType.RECORD_UNPUBLISHED
    assert set(unpublished.payload["record"]) == {"key", "slug", "label", "url"}


def test_a_change_no_endpoint_wants_writes_nothing(client_user):
    make_endpoint(client_user, events=[EventType.COMMITMENT_STATUS_CHANGED])
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision="day")

    move(milestone)

    assert not Event.objects.exists()


def test_a_published_figure_is_delivered_as_the_api_writes_it(client_user):
    make_endpoint(client_user, events=[EventType.RECORD_PUBLISHED])

    observation = make_observation(status="published", value=Decimal("12.5"), unit="percent")

    event = Event.objects.get()
    assert event.payload["record_type"] == "observation"
    assert event.payload["record"]["url"].endswith(f"/{observation.slug or observation.key}/")


def test_an_endpoint_gets_only_the_events_and_records_it_asked_for(client_user):
    snapchat, tiktok = make_platform("Snapchat"), make_platform("TikTok")
    wants_snapchat = make_endpoint(client_user, platform=snapchat)
    wants_moves = make_endpoint(client_user, events=[EventType.MILESTONE_DATE_CHANGED])
    Delivery.objects.all().delete()
    about_tiktok = make_milestone(
        date=dt.date(2026, 7, 1), date_precision="day", platforms=[tiktok]
    )
    about_snapchat = make_milestone(
        date=dt.date(2026, 7, 1), date_precision="day", platforms=[snapchat]
    )
    Delivery.objects.all().delete()

    move(about_tiktok)
    move(about_snapchat)

    assert set(Delivery.objects.values_list("endpoint", "event__payload__milestone__title")) == {
        (wants_moves.pk, about_tiktok.title),
        (wants_moves.pk, about_snapchat.title),
        (wants_snapchat.pk, about_snapchat.title),
    }


def test_a_milestone_reached_is_announced_once_on_its_day_and_not_long_after(client_user):
    make_endpoint(client_user, events=[EventType.MILESTONE_REACHED])
    today = timezone.localdate()
    arrived = make_milestone(date=today, verification="confirmed")
    make_milestone(date=today - dt.timedelta(days=30), verification="confirmed")  # too old
    make_milestone(date=today + dt.timedelta(days=1), verification="confirmed")  # not yet

    assert plan_reached(at=timezone.now()) == 1
    assert plan_reached(at=timezone.now()) == 0

    event = Event.objects.get(type=EventType.MILESTONE_REACHED)
    assert event.payload["milestone"]["title"] == arrived.title
    assert Delivery.objects.filter(event=event).count() == 1


# --- Delivery ----------------------------------------------------------------------------------


def pending_delivery(owner: User, url: str, **endpoint_fields) -> Delivery:
    endpoint = make_endpoint(
        owner, url, events=[EventType.MILESTONE_DATE_CHANGED], **endpoint_fields
    )
    move(make_milestone(date=dt.date(2026, 7, 1), date_precision="day"))
    return Delivery.objects.get(endpoint=endpoint)


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_delivery_is_signed_the_standard_webhooks_way(client_user, receiver, loopback):
    delivery = pending_delivery(client_user, receiver.url())

    assert delivering.deliver(delivery.pk) == DeliveryState.DELIVERED

    [received] = receiver.received
    body = verify(received, delivery.endpoint.secret)
    assert received.headers["webhook-id"] == str(delivery.event_id)
    assert body["type"] == "milestone.date_changed"
    assert body["data"]["change"]["new"]["date"] == "2026-07-15"
    with pytest.raises(WebhookVerificationError):
        verify(received, Endpoint(owner=client_user).secret)  # another secret
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    [attempt] = delivery.log.all()
    assert (attempt.number, attempt.status_code, attempt.response_size) == (1, 204, 0)


def test_a_500_is_retried_later_with_the_same_id(client_user, receiver, loopback):
    receiver.answers = [(500, {}), (200, {})]
    delivery = pending_delivery(client_user, receiver.url())

    assert delivering.deliver(delivery.pk) == DeliveryState.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at > timezone.now()
    assert delivering.deliver(delivery.pk) == ""  # not due yet: nothing posted
    make_due(delivery)
    assert delivering.deliver(delivery.pk) == DeliveryState.DELIVERED

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(delivery.event_id)
    assert first.body == second.body
    assert list(delivery.log.values_list("number", "status_code")) == [(1, 500), (2, 200)]
    assert [a.response_excerpt for a in delivery.log.all()] == ["no thanks", '{"ok": true}']


def test_a_400_is_not_retried(client_user, receiver, loopback):
    receiver.answers = [(400, {})]
    delivery = pending_delivery(client_user, receiver.url())

    assert delivering.deliver(delivery.pk) == DeliveryState.FAILED
    make_due(delivery)
    assert delivering.deliver(delivery.pk) == ""

    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert "not retried" in delivery.last_error


def test_a_redirect_is_not_followed_nor_retried(client_user, receiver, loopback):
    receiver.answers = [(302, {"Location": "http://169.254.169.254/latest/meta-data/"})]
    delivery = pending_delivery(client_user, receiver.url())

    assert delivering.deliver(delivery.pk) == DeliveryState.FAILED
    assert len(receiver.received) == 1


def test_a_429_waits_as_long_as_retry_after_says(client_user, receiver, loopback):
    receiver.answers = [(429, {"Retry-After": "120"}), (204, {})]
    delivery = pending_delivery(client_user, receiver.url())
    before = timezone.now()

    assert delivering.deliver(delivery.pk) == DeliveryState.PENDING

    delivery.refresh_from_db()
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 120 <= wait < 130
    assert delivering.deliver(delivery.pk) == ""
    assert len(receiver.received) == 1


def test_retries_stop_after_the_retry_window(client_user, receiver, loopback, settings):
    receiver.answers = [(503, {})]
    delivery = pending_delivery(client_user, receiver.url())
    Delivery.objects.filter(pk=delivery.pk).update(
        window_started_at=timezone.now() - dt.timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    )

    assert delivering.deliver(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert "gave up after 72 hours" in delivery.last_error


def test_an_unreachable_receiver_is_retried(client_user, loopback):
    closed = Receiver().start()
    url = closed.url()
    closed.stop()  # nothing listens there now
    delivery = pending_delivery(client_user, url)

    assert delivering.deliver(delivery.pk) == DeliveryState.PENDING
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and delivery.last_error


def test_a_rotated_secret_signs_with_both_during_the_grace_then_the_new_one(
    client_user, receiver, loopback
):
    delivery = pending_delivery(client_user, receiver.url())
    endpoint = delivery.endpoint
    old = endpoint.secret
    new = endpoint.rotate_secret(at=timezone.now(), grace=dt.timedelta(hours=24))

    delivering.deliver(delivery.pk)
    [during] = receiver.received
    assert verify(during, old) == verify(during, new)
    assert len(during.headers["webhook-signature"].split(" ")) == 2

    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    Delivery.objects.filter(pk=delivery.pk).redeliver(at=timezone.now())
    delivering.deliver(delivery.pk)
    after = receiver.received[1]
    verify(after, new)
    with pytest.raises(WebhookVerificationError):
        verify(after, old)


def test_a_name_resolving_to_loopback_is_refused_without_the_setting(
    client_user, receiver, settings, caplog
):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    delivery = pending_delivery(client_user, f"https://localhost:{receiver.port}/hooks")

    with caplog.at_level(logging.WARNING, logger="tracker.webhooks.delivery"):
        assert delivering.deliver(delivery.pk) == DeliveryState.FAILED

    assert receiver.received == []
    [attempt] = delivery.log.all()
    assert attempt.status_code is None
    assert "Refused" in attempt.error
    assert "Refused" in caplog.text
    assert delivery.endpoint.secret not in caplog.text


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owner_told(
    client_user, receiver, loopback, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.answers = [(500, {})]
    delivery = pending_delivery(client_user, receiver.url())
    Endpoint.objects.filter(pk=delivery.endpoint_id).update(
        consecutive_failures=2, failing_since=timezone.now() - dt.timedelta(hours=25)
    )

    with django_capture_on_commit_callbacks(execute=True):
        delivering.deliver(delivery.pk)

    endpoint = Endpoint.objects.get(pk=delivery.endpoint_id)
    assert endpoint.disabled_at is not None
    assert "more than 24 hours" in endpoint.disabled_reason
    [message] = mail.outbox
    assert message.to == ["hooks@newsroom.example"]
    assert endpoint.url in message.body
    assert endpoint.secret not in message.body
    make_due(delivery)
    assert delivering.deliver(delivery.pk) == ""  # a disabled endpoint is sent nothing


def test_failures_within_a_day_do_not_disable(client_user, receiver, loopback, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1
    receiver.answers = [(500, {})]
    delivery = pending_delivery(client_user, receiver.url())

    delivering.deliver(delivery.pk)

    endpoint = Endpoint.objects.get(pk=delivery.endpoint_id)
    assert (endpoint.disabled_at, endpoint.consecutive_failures) == (None, 1)


def test_a_delivery_takes_one_statement_to_claim_and_one_to_record(
    client_user, receiver, loopback, django_assert_num_queries
):
    receiver.answers = [(500, {}), (204, {})]
    delivery = pending_delivery(client_user, receiver.url())

    # The claim's transaction (a savepoint here): lock and load, move to sending. Then the
    # attempt, the delivery's state and the endpoint's failures in one statement (PostgreSQL;
    # SQLite takes a few statements in a transaction).
    def counted():
        if connection.vendor != "postgresql":
            return contextlib.nullcontext()
        return django_assert_num_queries(5)

    with counted():
        assert delivering.deliver(delivery.pk) == DeliveryState.PENDING
    make_due(delivery)
    with counted():
        assert delivering.deliver(delivery.pk) == DeliveryState.DELIVERED

    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.claim, delivery.last_status_code) == (2, None, 204)
    assert [(a.number, a.status_code) for a in delivery.log.all()] == [(1, 500), (2, 204)]
    endpoint = Endpoint.objects.get(pk=delivery.endpoint_id)
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)


def test_one_endpoint_holds_at_most_its_limit_of_deliveries_in_flight(client_user, settings):
    settings.WEBHOOK_MAX_SENDING_PER_ENDPOINT = 1
    moves = [EventType.MILESTONE_DATE_CHANGED]
    slow = make_endpoint(client_user, "https://slow.example.org/", events=moves)
    other = make_endpoint(client_user, "https://other.example.org/", events=moves)
    move(make_milestone(date=dt.date(2026, 7, 1), date_precision="day"))
    move(make_milestone(date=dt.date(2026, 8, 1), date_precision="day"))
    first, second = Delivery.objects.filter(endpoint=slow).order_by("pk")
    now = timezone.now()

    assert delivering.claim(first.pk, at=now) is not None
    assert delivering.claim(second.pk, at=now) is None
    # Another endpoint's deliveries are not held up by the slow one.
    assert delivering.claim(Delivery.objects.filter(endpoint=other).first().pk, at=now)


def test_the_dispatcher_releases_a_dead_workers_claim_and_queues_due_deliveries(
    client_user, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_LEASE_SECONDS = 60
    delivery = pending_delivery(client_user, "https://hooks.example.org/")
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING,
        claim=uuid.uuid4(),
        claimed_at=timezone.now() - dt.timedelta(seconds=61),
        queued_at=None,
    )
    at = timezone.now()

    with django_capture_on_commit_callbacks() as queued:
        result = dispatch(at=at)

    assert result == {"queued": 1, "released": 1, "reached": 0}
    assert len(queued) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.claim, delivery.queued_at) == ("pending", None, at)
    assert dispatch(at=at)["queued"] == 0  # queued already: not again until the requeue time


# --- The API -----------------------------------------------------------------------------------

WEBHOOKS = "/api/v1/webhooks/"


def test_registering_answers_the_secret_once(client_user):
    api = token_client(client_user)

    created = api.post(
        WEBHOOKS,
        {"url": "https://hooks.newsroom.example/osa", "events": ["milestone.date_changed"]},
        format="json",
    )

    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    endpoint = Endpoint.objects.get()
    assert (endpoint.owner, endpoint.secret, endpoint.events) == (
        client_user,
        secret,
        ["milestone.date_changed"],
    )
    for answer in (api.get(WEBHOOKS), api.get(f"{WEBHOOKS}{endpoint.pk}/")):
        assert answer.status_code == 200
        assert secret not in answer.content.decode()
        assert "secret" not in answer.content.decode().replace("previous_secret_expires_at", "")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.0.0.5/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.100.100.200/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[fd00::1]/",
        "http://hooks.newsroom.example/",
        "ftp://hooks.newsroom.example/",
        "not an address",
    ],
)
def test_registering_an_internal_or_non_https_address_is_refused(client_user, url):
    answer = token_client(client_user).post(WEBHOOKS, {"url": url}, format="json")

    assert answer.status_code == 400
    assert answer.json()["url"]
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost./hook",
        "https://localhost.localdomain/hook",
        "https://ip6-localhost/hook",
        "https://ip6-loopback:8443/hook",
        "https://LOCALHOST/hook",
    ],
)
def test_registering_a_name_that_resolves_to_loopback_is_refused(client_user, hosts_file, url):
    answer = token_client(client_user).post(WEBHOOKS, {"url": url}, format="json")

    assert answer.status_code == 400
    [message] = answer.json()["url"]
    assert "not a public internet address" in message
    assert not Endpoint.objects.exists()


def test_registering_a_name_with_one_internal_address_among_its_answers_is_refused(
    client_user, hosts_file
):
    hosts_file["mixed.newsroom.example"] = ["93.184.215.14", "10.0.0.5"]

    answer = token_client(client_user).post(
        WEBHOOKS, {"url": "https://mixed.newsroom.example/osa"}, format="json"
    )

    assert answer.status_code == 400
    assert "10.0.0.5" in answer.json()["url"][0]


def test_a_name_resolving_to_public_addresses_or_not_yet_at_all_is_registered(
    client_user, hosts_file
):
    # A name not (yet) in the DNS is no danger: every delivery resolves and checks it again.
    hosts_file["hooks.newsroom.example"] = ["93.184.215.14", "2606:2800:21f:cb07::1"]
    api = token_client(client_user)

    for url in ("https://hooks.newsroom.example/osa", "https://later.newsroom.example/osa"):
        answer = api.post(WEBHOOKS, {"url": url}, format="json")
        assert answer.status_code == 201, answer.content


def test_loopback_names_are_registered_when_loopback_is_allowed(client_user, hosts_file, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True  # as `make run` sets it
    api = token_client(client_user)

    for url in ("http://localhost:8000/hook", "https://localhost.localdomain/hook"):
        answer = api.post(WEBHOOKS, {"url": url}, format="json")
        assert answer.status_code == 201, answer.content


def test_registering_an_unknown_event_is_refused(client_user):
    answer = token_client(client_user).post(
        WEBHOOKS,
        {"url": "https://hooks.example.org/", "events": ["milestone.eaten"]},
        format="json",
    )

    assert answer.status_code == 400
    assert "events" in answer.json()


def test_the_api_root_links_the_webhooks(client_user):
    body = APIClient().get("/api/v1/").json()
    assert body["webhooks"] == f"http://testserver{WEBHOOKS}"
    assert body["milestones"] == "http://testserver/api/v1/milestones/"
    # The link leads to the client's endpoints (behind its token).
    make_endpoint(client_user)
    assert APIClient().get(body["webhooks"]).status_code == 401
    listed = token_client(client_user).get(body["webhooks"]).json()
    assert [e["url"] for e in listed["results"]] == ["https://hooks.example.org/in"]


def test_the_permission_matrix(client_user, other_user, editor, client):
    endpoint = make_endpoint(client_user)
    mine = f"{WEBHOOKS}{endpoint.pk}/"
    owner, stranger, anonymous = token_client(client_user), token_client(other_user), APIClient()
    staff_token = token_client(editor)
    requests = [
        ("get", mine, None),
        ("patch", mine, {"description": "changed"}),
        ("post", f"{mine}pause/", None),
        ("post", f"{mine}resume/", None),
        ("post", f"{mine}rotate-secret/", None),
        ("get", f"{mine}deliveries/", None),
        ("delete", mine, None),
    ]

    assert anonymous.get(WEBHOOKS).status_code == 401
    assert anonymous.post(WEBHOOKS, {"url": "https://a.example/"}, format="json").status_code == 401
    for method, path, data in requests:
        assert getattr(anonymous, method)(path, data, format="json").status_code == 401
        assert getattr(stranger, method)(path, data, format="json").status_code == 404
        assert getattr(staff_token, method)(path, data, format="json").status_code == 404
    assert stranger.get(WEBHOOKS).json()["results"] == []
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.paused) == ("", False)

    for method, path, data in requests:
        assert getattr(owner, method)(path, data, format="json").status_code in (200, 204)
    assert not Endpoint.objects.exists()

    # Staff see every client's endpoints in the admin.
    theirs = make_endpoint(other_user, "https://theirs.example.org/in")
    client.force_login(editor)
    editor.user_permissions.add(*Permission.objects.filter(codename="view_endpoint"))
    listing = client.get(reverse("admin:tracker_endpoint_changelist"))
    assert listing.status_code == 200
    assert theirs.url in listing.content.decode()
    assert (
        theirs.secret
        not in client.get(
            reverse("admin:tracker_endpoint_change", args=[theirs.pk])
        ).content.decode()
    )


def test_rotating_answers_the_new_secret_once_and_keeps_the_old_for_the_grace(client_user):
    endpoint = make_endpoint(client_user)
    old = endpoint.secret
    api = token_client(client_user)

    answer = api.post(f"{WEBHOOKS}{endpoint.pk}/rotate-secret/")

    assert answer.status_code == 200
    new = answer.json()["secret"]
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (new, old)
    assert endpoint.signing_secrets(at=timezone.now()) == [new, old]
    assert new not in api.get(f"{WEBHOOKS}{endpoint.pk}/").content.decode()


def test_the_delivery_log_and_redelivery(client_user, receiver, loopback):
    receiver.answers = [(400, {}), (204, {})]
    delivery = pending_delivery(client_user, receiver.url())
    delivering.deliver(delivery.pk)
    api = token_client(client_user)
    base = f"{WEBHOOKS}{delivery.endpoint_id}/deliveries/"

    log = api.get(base).json()["results"]
    assert [(d["id"], d["state"], d["event_id"]) for d in log] == [
        (delivery.pk, "failed", str(delivery.event_id))
    ]
    assert log[0]["attempts_log"][0]["status_code"] == 400

    again = api.post(f"{base}{delivery.pk}/redeliver/")
    assert again.status_code == 202
    assert again.json()["state"] == "pending"
    assert delivering.deliver(delivery.pk) == DeliveryState.DELIVERED
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert api.post(f"{base}999999/redeliver/").status_code == 404
    assert (
        token_client(User.objects.create_user("x"))
        .post(f"{base}{delivery.pk}/redeliver/")
        .status_code
        == 404
    )


def test_a_paused_endpoint_is_sent_nothing_until_resumed(client_user, receiver, loopback):
    delivery = pending_delivery(client_user, receiver.url())
    api = token_client(client_user)

    assert api.post(f"{WEBHOOKS}{delivery.endpoint_id}/pause/").json()["paused"] is True
    assert delivering.deliver(delivery.pk) == ""
    assert api.post(f"{WEBHOOKS}{delivery.endpoint_id}/resume/").json()["paused"] is False
    assert delivering.deliver(delivery.pk) == DeliveryState.DELIVERED


# --- Admin and health --------------------------------------------------------------------------


def test_the_admin_redeliver_action_needs_the_change_permission(client_user, editor, client):
    delivery = pending_delivery(client_user, "https://hooks.example.org/")
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
    client.force_login(editor)
    url = reverse("admin:tracker_delivery_changelist")
    data = {"action": "redeliver", "_selected_action": [delivery.pk]}
    editor.user_permissions.add(*Permission.objects.filter(codename="view_delivery"))

    assert client.post(url, data).status_code == 403
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED

    editor.user_permissions.add(*Permission.objects.filter(codename="change_delivery"))
    assert client.post(url, data).status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING


def test_healthz_reports_the_webhook_backlog_and_fails_when_it_is_stale(
    client_user, client, settings
):
    settings.WEBHOOK_BACKLOG_STALE_SECONDS = 600
    delivery = pending_delivery(client_user, "https://hooks.example.org/")

    fresh = client.get("/healthz").json()
    assert fresh["webhooks"] == "ok"
    assert fresh["webhook_backlog"]["due"] == 1

    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=601)
    )
    stale = client.get("/healthz")
    assert stale.status_code == 503
    assert stale.json()["webhooks"] == "failing"
    assert stale.json()["webhook_backlog"]["oldest_due_seconds"] >= 601
