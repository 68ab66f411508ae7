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
from django.db import transaction
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


def claim(delivery_id: int, *, at: dt.datetime) -> uuid.UUID | None:
    """Move the delivery to sending under a new claim; None if it is not due, another worker
    has it, or its endpoint already has its limit of deliveries in flight."""
    endpoint_id = (
        Delivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
    )
    if endpoint_id is None:
        return None
    token = uuid.uuid4()
    with transaction.atomic():
        # Claims for one endpoint take turns, so the count below cannot be overtaken.
        if not Endpoint.objects.select_for_update().filter(pk=endpoint_id).exists():
            return None
        sending = Delivery.objects.filter(endpoint_id=endpoint_id, state=DeliveryState.SENDING)
        if sending.count() >= settings.WEBHOOK_MAX_SENDING_PER_ENDPOINT:
            # Busy: the dispatcher queues it again on its next run.
            Delivery.objects.filter(pk=delivery_id).update(queued_at=None)
            return None
        moved = (
            Delivery.objects.due(at=at)
            .filter(pk=delivery_id)
            .update(state=DeliveryState.SENDING, claim=token, claimed_at=at, updated_at=at)
        )
    return token if moved else None


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
    """Write the attempt and the delivery's new state, if the claim is still ours. Returns the
    state written (or "" when the claim was lost: a released lease, another worker posting)."""
    at = timezone.now()
    state, error = outcome.state, outcome.error
    next_attempt_at = delivery.next_attempt_at
    if state == DeliveryState.PENDING:
        next_attempt_at = at + (outcome.wait or dt.timedelta())
        if _window_closed(delivery, next_attempt_at):
            state = DeliveryState.FAILED
            error = f"{error}; gave up after {settings.WEBHOOK_RETRY_HOURS} hours of retries"
    with transaction.atomic():
        updated = Delivery.objects.filter(
            pk=delivery.pk, claim=token, state=DeliveryState.SENDING
        ).update(
            state=state,
            attempts=F("attempts") + 1,
            next_attempt_at=next_attempt_at,
            queued_at=None,
            claim=None,
            claimed_at=None,
            delivered_at=at if state == DeliveryState.DELIVERED else None,
            last_status_code=outcome.status_code,
            last_error=error[:2000],
            updated_at=at,
        )
        if not updated:
            return ""
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts + 1,
            started_at=started,
            duration=duration,
            status_code=outcome.status_code,
            response_size=response.size if response is not None else None,
            response_excerpt=_excerpt(response.body) if response is not None else "",
            error=error[:2000],
        )
        _record_endpoint_health(delivery.endpoint, ok=state == DeliveryState.DELIVERED, at=at)
    return state


def _record_endpoint_health(endpoint: Endpoint, *, ok: bool, at: dt.datetime) -> None:
    """Every answer counts: a success clears the endpoint's failures; an endpoint that failed
    WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row over at least WEBHOOK_DISABLE_AFTER_HOURS
    is disabled and its owner told (its pending deliveries wait for it to be resumed)."""
    endpoints = Endpoint.objects.filter(pk=endpoint.pk)
    if ok:
        endpoints.exclude(consecutive_failures=0).update(consecutive_failures=0, failing_since=None)
        return
    endpoints.update(
        consecutive_failures=F("consecutive_failures") + 1,
        failing_since=Coalesce(F("failing_since"), at),
    )
    since = at - dt.timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    reason = (
        f"Disabled on {at:%Y-%m-%d %H:%M} UTC: every delivery attempt failed for more than "
        f"{settings.WEBHOOK_DISABLE_AFTER_HOURS} hours "
        f"({settings.WEBHOOK_DISABLE_AFTER_FAILURES} or more attempts in a row)."
    )
    disabled = endpoints.filter(
        disabled_at__isnull=True,
        consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        failing_since__lte=since,
    ).update(disabled_at=at, disabled_reason=reason)
    if disabled:
        logger.warning("Webhook endpoint %s disabled: %s", endpoint.pk, reason)
        transaction.on_commit(lambda: tell_owner_disabled(endpoint.pk))


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
    token = claim(delivery_id, at=started)
    if token is None:
        return ""
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    clock = time.monotonic()
    outcome, response = post(delivery, at=started)
    duration = time.monotonic() - clock
    state = record(delivery, token, outcome, response, started=started, duration=duration)
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
