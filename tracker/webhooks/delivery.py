"""Posting a delivery: claim it, sign it, post it, record the answer.

A delivery is claimed by a conditional update (pending → sending under a claim of this run's own)
while its endpoint's row is locked, and only while fewer than WEBHOOK_MAX_SENDING_PER_ENDPOINT of
the endpoint's deliveries are sending, so one slow endpoint holds at most that many workers. The
answer is recorded only if the claim is still this run's. A worker that dies after posting and
before recording leaves the row in sending until the lease runs out; it is then posted again with
the same `webhook-id` (at least once: receivers deduplicate by that id).
"""

import datetime as dt
import logging
import random
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tracker.webhooks import transport
from tracker.webhooks.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Endpoint,
)

logger = logging.getLogger(__name__)
EXCERPT_CHARS = 1000
USER_AGENT = "OSA-tracker-webhooks/1"
RETRY_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: delivered, retry (after `wait`) or failed for good."""

    state: str
    status_code: int | None = None
    error: str = ""
    wait: dt.timedelta | None = None


def signature_headers(endpoint: Endpoint, message_id: str, body: bytes, *, at: dt.datetime):
    """The Standard Webhooks headers: one `v1,` signature per secret that signs now (during a
    rotation, the new and the old, space-separated)."""
    stamp = dt.datetime.fromtimestamp(int(at.timestamp()), tz=dt.UTC)
    text = body.decode()
    signatures = [
        Webhook(key).sign(message_id, stamp, text) for key in endpoint.signing_secrets(at=at)
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff with jitter (so failed deliveries do not all come back at once)."""
    base = settings.WEBHOOK_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    wait = dt.timedelta(seconds=base * random.uniform(0.5, 1.5))
    return min(wait, dt.timedelta(seconds=settings.WEBHOOK_MAX_RETRY_WAIT_SECONDS))


def claim(delivery_id: int, *, at: dt.datetime) -> Delivery | None:
    """Move the delivery to sending under a new claim and return it (with its event and
    endpoint, `claim` holding the token); None if it is not due, another worker has it, or its
    endpoint already has its limit of deliveries in flight.

    Two statements in one transaction: the first loads the due delivery and locks its
    endpoint's row, so claims for one endpoint take turns; the second counts the endpoint's
    deliveries in flight and, below the limit, moves this one to sending (at the limit, it
    clears `queued_at` so the dispatcher queues it again). The count must be a statement of
    its own: one started before the lock was granted would not see a claim committed while
    it waited."""
    token = uuid.uuid4()
    with transaction.atomic():
        delivery = (
            Delivery.objects.due(at=at)
            .filter(pk=delivery_id)
            .select_related("event", "endpoint")
            .select_for_update(of=("endpoint",))
            .first()
        )
        if delivery is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, _db_values(_claim_params(delivery, token, at)))
            row = cursor.fetchone()
    if row is None or row[0] != DeliveryState.SENDING:
        return None
    delivery.state, delivery.claim, delivery.claimed_at = DeliveryState.SENDING, token, at
    return delivery


# Uncorrelated, so computed once per statement; both databases return only the target table's
# columns, so the answer is the state written (sending, or still pending at the limit).
_AT_LIMIT = f"""(
    SELECT count(*) >= %(limit)s FROM {Delivery._meta.db_table}
    WHERE endpoint_id = %(endpoint)s AND state = %(sending)s
)"""
_CLAIM_SQL = f"""
UPDATE {Delivery._meta.db_table} SET
    state = CASE WHEN {_AT_LIMIT} THEN state ELSE %(sending)s END,
    claim = CASE WHEN {_AT_LIMIT} THEN NULL ELSE %(token)s END,
    claimed_at = CASE WHEN {_AT_LIMIT} THEN NULL ELSE %(at)s END,
    queued_at = CASE WHEN {_AT_LIMIT} THEN NULL ELSE queued_at END,
    updated_at = CASE WHEN {_AT_LIMIT} THEN updated_at ELSE %(at)s END
WHERE id = %(delivery)s AND state = %(pending)s AND next_attempt_at <= %(at)s
RETURNING state
"""


def _claim_params(delivery: Delivery, token: uuid.UUID, at: dt.datetime) -> dict:
    return {
        "limit": settings.WEBHOOK_MAX_SENDING_PER_ENDPOINT,
        "endpoint": delivery.endpoint_id,
        "delivery": delivery.pk,
        "sending": DeliveryState.SENDING,
        "pending": DeliveryState.PENDING,
        "token": token,
        "at": at,
    }


def _db_values(params: dict) -> dict:
    """Parameters of the raw statements as the database stores them (uuids and datetimes)."""
    uuid_field = Delivery._meta.get_field("claim")
    time_field = Delivery._meta.get_field("claimed_at")
    converted = {}
    for name, value in params.items():
        if isinstance(value, uuid.UUID):
            value = uuid_field.get_db_prep_value(value, connection)
        elif isinstance(value, dt.datetime):
            value = time_field.get_db_prep_value(value, connection)
        converted[name] = value
    return converted


def _excerpt(body: bytes) -> str:
    return body[:EXCERPT_CHARS].decode("utf-8", errors="replace")


def classify(response: "transport.Response", delivery: Delivery, *, at: dt.datetime) -> Outcome:
    status = response.status
    if 200 <= status < 300:
        return Outcome(DeliveryState.DELIVERED, status)
    if status >= 500 or status in RETRY_STATUSES:
        wait = response.retry_after(now=at) if status in (429, 503) else None
        if wait is None:
            wait = retry_delay(delivery.attempts + 1)
        return Outcome(DeliveryState.PENDING, status, f"HTTP {status}", max(wait, dt.timedelta()))
    # Other 4xx, and 3xx (redirects are never followed): posting again would meet the same.
    return Outcome(DeliveryState.FAILED, status, f"HTTP {status}: not retried")


def post(delivery: Delivery, *, at: dt.datetime) -> tuple[Outcome, "transport.Response | None"]:
    endpoint, event = delivery.endpoint, delivery.event
    body = event.body()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signature_headers(endpoint, str(event.pk), body, at=at),
    }
    try:
        response = transport.post(
            endpoint.url,
            body,
            headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            max_bytes=settings.WEBHOOK_MAX_RESPONSE_BYTES,
            allow_loopback=settings.WEBHOOK_ALLOW_LOOPBACK,
        )
    except transport.RefusedAddress as error:
        # Where it leads is not for us to post to: the same answer every time.
        return Outcome(DeliveryState.FAILED, error=f"Refused address: {error}"), None
    except transport.InvalidURL as error:
        return Outcome(DeliveryState.FAILED, error=f"Invalid address: {error}"), None
    except transport.TransportError as error:  # timeouts, DNS and connection failures
        wait = retry_delay(delivery.attempts + 1)
        outcome = Outcome(
            DeliveryState.PENDING, error=f"{type(error).__name__}: {error}", wait=wait
        )
        return outcome, None
    return classify(response, delivery, at=at), response


def _window_closed(delivery: Delivery, retry_at: dt.datetime) -> bool:
    window = dt.timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    return retry_at > delivery.window_started_at + window


def record(
    delivery: Delivery,
    token: uuid.UUID,
    outcome: Outcome,
    response: "transport.Response | None",
    *,
    started: dt.datetime,
    duration: float,
) -> str:
    """Write the attempt, the delivery's new state and its endpoint's health, if the claim is
    still ours, in one statement. Returns the state written (or "" when the claim was lost: a
    released lease, another worker posting).

    Every answer counts towards the endpoint's health: a success clears its failures; an
    endpoint that failed WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row over at least
    WEBHOOK_DISABLE_AFTER_HOURS is disabled and its owner told (its pending deliveries wait for
    it to be resumed)."""
    at = timezone.now()
    state, error = outcome.state, outcome.error
    next_attempt_at = delivery.next_attempt_at
    if state == DeliveryState.PENDING:
        next_attempt_at = at + (outcome.wait or dt.timedelta())
        if _window_closed(delivery, next_attempt_at):
            state = DeliveryState.FAILED
            error = f"{error}; gave up after {settings.WEBHOOK_RETRY_HOURS} hours of retries"
    reason = (
        f"Disabled on {at:%Y-%m-%d %H:%M} UTC: every delivery attempt failed for more than "
        f"{settings.WEBHOOK_DISABLE_AFTER_HOURS} hours "
        f"({settings.WEBHOOK_DISABLE_AFTER_FAILURES} or more attempts in a row)."
    )
    params = {
        "delivery": delivery.pk,
        "token": token,
        "sending": DeliveryState.SENDING,
        "state": state,
        "next_attempt_at": next_attempt_at,
        "delivered_at": at if state == DeliveryState.DELIVERED else None,
        "status_code": outcome.status_code,
        "error": error[:2000],
        "at": at,
        "started": started,
        "duration": duration,
        "response_size": response.size if response is not None else None,
        "excerpt": _excerpt(response.body) if response is not None else "",
        "ok": state == DeliveryState.DELIVERED,
        "failures": settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        "since": at - dt.timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS),
        "reason": reason,
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_RECORD_SQL, _db_values(params))
            recorded, disabled = cursor.fetchone()
    else:
        recorded, disabled = _record_in_steps(params)
    if not recorded:
        return ""
    if disabled:
        logger.warning("Webhook endpoint %s disabled: %s", delivery.endpoint_id, reason)
        endpoint_id = delivery.endpoint_id
        transaction.on_commit(lambda: tell_owner_disabled(endpoint_id))
    return state


# The delivery's update, the attempt's insert and the endpoint's health in one statement (so
# one round trip, and all or nothing). Every SET expression reads the row as it was, so the
# disabling condition counts the failure being recorded by adding one.
_FAILING_LONG_ENOUGH = """
    NOT %(ok)s AND disabled_at IS NULL
    AND consecutive_failures + 1 >= %(failures)s
    AND COALESCE(failing_since, %(at)s) <= %(since)s
"""
_RECORD_SQL = f"""
WITH moved AS (
    UPDATE {Delivery._meta.db_table} SET
        state = %(state)s,
        attempts = attempts + 1,
        next_attempt_at = %(next_attempt_at)s,
        queued_at = NULL,
        claim = NULL,
        claimed_at = NULL,
        delivered_at = %(delivered_at)s,
        last_status_code = %(status_code)s,
        last_error = %(error)s,
        updated_at = %(at)s
    WHERE id = %(delivery)s AND claim = %(token)s AND state = %(sending)s
    RETURNING id, endpoint_id, attempts
), logged AS (
    INSERT INTO {DeliveryAttempt._meta.db_table} (
        delivery_id, number, started_at, duration, status_code, response_size,
        response_excerpt, error
    )
    SELECT id, attempts, %(started)s, %(duration)s, %(status_code)s, %(response_size)s,
        %(excerpt)s, %(error)s
    FROM moved
), health AS (
    UPDATE {Endpoint._meta.db_table} SET
        consecutive_failures = CASE WHEN %(ok)s THEN 0 ELSE consecutive_failures + 1 END,
        failing_since = CASE WHEN %(ok)s THEN NULL ELSE COALESCE(failing_since, %(at)s) END,
        disabled_at = CASE WHEN {_FAILING_LONG_ENOUGH} THEN %(at)s ELSE disabled_at END,
        disabled_reason = CASE
            WHEN {_FAILING_LONG_ENOUGH} THEN %(reason)s ELSE disabled_reason
        END
    WHERE id IN (SELECT endpoint_id FROM moved)
        AND (NOT %(ok)s OR consecutive_failures <> 0 OR failing_since IS NOT NULL)
    RETURNING disabled_at = %(at)s AND disabled_reason = %(reason)s AS disabled_now
)
SELECT
    EXISTS (SELECT 1 FROM moved),
    EXISTS (SELECT 1 FROM health WHERE disabled_now)
"""


def _record_in_steps(params: dict) -> tuple[bool, bool]:
    """What _RECORD_SQL does, statement by statement in one transaction, for databases without
    data-modifying WITH clauses (SQLite, for local development: one writer at a time)."""
    at, ok = params["at"], params["ok"]
    with transaction.atomic():
        moved = Delivery.objects.filter(
            pk=params["delivery"], claim=params["token"], state=DeliveryState.SENDING
        )
        endpoint_id = moved.values_list("endpoint_id", flat=True).first()
        if endpoint_id is None or not moved.update(
            state=params["state"],
            attempts=F("attempts") + 1,
            next_attempt_at=params["next_attempt_at"],
            queued_at=None,
            claim=None,
            claimed_at=None,
            delivered_at=params["delivered_at"],
            last_status_code=params["status_code"],
            last_error=params["error"],
            updated_at=at,
        ):
            return False, False
        DeliveryAttempt.objects.create(
            delivery_id=params["delivery"],
            number=Delivery.objects.values_list("attempts", flat=True).get(pk=params["delivery"]),
            started_at=params["started"],
            duration=params["duration"],
            status_code=params["status_code"],
            response_size=params["response_size"],
            response_excerpt=params["excerpt"],
            error=params["error"],
        )
        endpoints = Endpoint.objects.filter(pk=endpoint_id)
        if ok:
            endpoints.exclude(consecutive_failures=0, failing_since__isnull=True).update(
                consecutive_failures=0, failing_since=None
            )
            return True, False
        endpoints.update(
            consecutive_failures=F("consecutive_failures") + 1,
            failing_since=Coalesce(F("failing_since"), at),
        )
        disabled = endpoints.filter(
            disabled_at__isnull=True,
            consecutive_failures__gte=params["failures"],
            failing_since__lte=params["since"],
        ).update(disabled_at=at, disabled_reason=params["reason"])
    return True, bool(disabled)


def tell_owner_disabled(endpoint_id: int) -> None:
    endpoint = Endpoint.objects.select_related("owner").get(pk=endpoint_id)
    if not endpoint.owner.email:
        return
    host = urlsplit(endpoint.url).hostname
    body = (
        f"Your webhook endpoint {endpoint.url} ({endpoint.description or 'no description'}) "
        f"has been disabled.\n\n{endpoint.disabled_reason}\n\n"
        "Deliveries still pending wait for it. When the receiver works again, resume the "
        f"endpoint: POST {settings.SITE_URL}/api/v1/webhooks/{endpoint.pk}/resume/ with your "
        "token. Its delivery log (GET .../deliveries/) shows what the receiver answered.\n"
    )
    try:
        send_mail(f"Webhook endpoint disabled: {host}", body, None, [endpoint.owner.email])
    except OSError as error:
        logger.error("Could not tell the owner of webhook endpoint %s: %s", endpoint_id, error)


def deliver(delivery_id: int) -> str:
    """Claim, post and record one delivery. Returns the state written, or "" if it was not
    ours to post (not due, claimed elsewhere, endpoint busy). Safe to run twice."""
    started = timezone.now()
    delivery = claim(delivery_id, at=started)
    if delivery is None:
        return ""
    clock = time.monotonic()
    outcome, response = post(delivery, at=started)
    duration = time.monotonic() - clock
    state = record(delivery, delivery.claim, outcome, response, started=started, duration=duration)
    log = logger.info if state == DeliveryState.DELIVERED else logger.warning
    log(
        "Webhook delivery %s (event %s, endpoint %s, attempt %d): %s %s",
        delivery.pk,
        delivery.event_id,
        delivery.endpoint_id,
        delivery.attempts + 1,
        state or "claim lost",
        outcome.error or outcome.status_code,
    )
    return state


def due_for_queueing(*, at: dt.datetime, limit: int) -> list[int]:
    """Pending deliveries whose time has come and whose task is not already waiting in the
    queue (or was queued longer ago than WEBHOOK_REQUEUE_SECONDS: lost with its broker)."""
    requeue = at - dt.timedelta(seconds=settings.WEBHOOK_REQUEUE_SECONDS)
    not_waiting = Q(queued_at__isnull=True) | Q(queued_at__lt=requeue)
    return list(
        Delivery.objects.due(at=at)
        .filter(not_waiting)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
