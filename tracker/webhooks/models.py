"""Webhooks: the endpoints clients register, the events the knowledge base's changes cause, and
one delivery row per (event, endpoint) with a log of its attempts.

The same outbox discipline as the reminders: an event and its deliveries are written in the
transaction of the change that causes them (a rolled-back change leaves nothing), a delivery is
claimed by a conditional update before it is posted, and a claim whose worker died returns to
pending when its lease runs out. The rules about posting live in delivery.py.
"""

import base64
import datetime as dt
import json
import secrets
import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from regulation.models import choices_check

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class EventType(models.TextChoices):
    MILESTONE_DATE_CHANGED = "milestone.date_changed", "A milestone's date moved"
    MILESTONE_CONFIRMED = "milestone.confirmed", "A milestone's date was confirmed"
    MILESTONE_REACHED = "milestone.reached", "A milestone known to the day arrived"
    COMMITMENT_STATUS_CHANGED = "commitment.status_changed", "A commitment's status changed"
    RECORD_PUBLISHED = "record.published", "A record was published"
    RECORD_UNPUBLISHED = "record.unpublished", "A record was unpublished"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class EndpointQuerySet(models.QuerySet):
    def active(self) -> "EndpointQuerySet":
        """Endpoints that take deliveries now: neither paused by their owner nor disabled."""
        return self.filter(paused=False, disabled_at__isnull=True)


class Endpoint(models.Model):
    """A client's receiving address, the events it wants and the secret that signs them."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(
        max_length=2000, help_text="An https address; redirects are not followed."
    )
    events = models.JSONField(
        default=list,
        blank=True,  # an empty list is a valid choice: every event
        help_text="The event types it wants (a list); empty means all of them.",
    )
    platform = models.ForeignKey(
        "regulation.Platform", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    instrument = models.ForeignKey(
        "regulation.Instrument", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    topic = models.ForeignKey(
        "regulation.Topic", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=500, blank=True)
    # Shown to the client once, when created or rotated; never in a later answer or a log.
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused = models.BooleanField(default=False, help_text="Paused by its owner: nothing is sent.")
    disabled_at = models.DateTimeField(
        null=True, blank=True, help_text="Disabled after failing continuously; resume to enable."
    )
    disabled_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="The first failed attempt since the last success."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(url__startswith="https://")
                | models.Q(url__startswith="http://"),
                name="webhook_endpoint_url_is_http",
                violation_error_message="A webhook address is an http(s) address.",
            ),
            models.CheckConstraint(
                condition=models.Q(previous_secret="", previous_secret_expires_at__isnull=True)
                | (
                    ~models.Q(previous_secret="")
                    & models.Q(previous_secret_expires_at__isnull=False)
                ),
                name="webhook_endpoint_previous_secret_expires",
                violation_error_message="A previous secret needs the time its grace ends.",
            ),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def is_active(self) -> bool:
        return not self.paused and self.disabled_at is None

    def signing_secrets(self, *, at: dt.datetime) -> list[str]:
        """The secrets that sign now: the current one, and the previous one during its grace."""
        keys = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at > at:
            keys.append(self.previous_secret)
        return keys

    def rotate_secret(self, *, at: dt.datetime, grace: dt.timedelta) -> str:
        """A new secret; the old one goes on signing too until `grace` has passed. Returns the
        new secret (the only time it is shown)."""
        with transaction.atomic():
            current = type(self).objects.select_for_update().get(pk=self.pk)
            self.previous_secret = current.secret
            self.previous_secret_expires_at = at + grace
            self.secret = new_secret()
            self.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
        return self.secret

    def resume(self) -> None:
        """Take deliveries again (after a pause, or after being disabled)."""
        self.paused = False
        self.disabled_at, self.disabled_reason = None, ""
        self.consecutive_failures, self.failing_since = 0, None
        self.save(
            update_fields=[
                "paused",
                "disabled_at",
                "disabled_reason",
                "consecutive_failures",
                "failing_since",
                "updated_at",
            ]
        )

    def wants(self, event_type: str, related: dict[str, set[int]]) -> bool:
        """Whether an event of this type about a record related to `related` (ids of its
        platforms, instruments and topics) is for this endpoint."""
        if self.events and event_type not in self.events:
            return False
        for name in ("platform", "instrument", "topic"):
            wanted = getattr(self, f"{name}_id")
            if wanted is not None and wanted not in related.get(name, set()):
                return False
        return True


class Event(models.Model):
    """Something that happened, as clients are told it. Its id is the `webhook-id` of every
    delivery of it, on every retry: receivers deduplicate by it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField(help_text="The `data` of the delivered body.")
    # Set for events that must happen once only (a milestone reached on its day).
    once_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [choices_check("type", EventType, prefix="webhook_")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def body(self) -> bytes:
        """The delivered body, the same on every attempt (Standard Webhooks' layout)."""
        return json.dumps(
            {"type": self.type, "timestamp": self.created_at.isoformat(), "data": self.payload},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()


class DeliveryQuerySet(models.QuerySet):
    def due(self, *, at: dt.datetime) -> "DeliveryQuerySet":
        """Pending, its wait over, to an endpoint that takes deliveries now."""
        return self.filter(
            state=DeliveryState.PENDING,
            next_attempt_at__lte=at,
            endpoint__paused=False,
            endpoint__disabled_at__isnull=True,
        )

    def stuck(self, *, at: dt.datetime, lease: dt.timedelta) -> "DeliveryQuerySet":
        return self.filter(state=DeliveryState.SENDING, claimed_at__lt=at - lease)

    def release_stuck(self, *, at: dt.datetime, lease: dt.timedelta) -> int:
        """Claims whose worker died or hung go back to pending, to be posted again (same id)."""
        return self.stuck(at=at, lease=lease).update(
            state=DeliveryState.PENDING,
            claim=None,
            claimed_at=None,
            next_attempt_at=at,
            queued_at=None,
            updated_at=at,
        )

    def redeliver(self, *, at: dt.datetime) -> int:
        """Post the chosen deliveries again (with the same id), whatever their state; rows a
        worker holds right now are left alone."""
        return self.exclude(state=DeliveryState.SENDING).update(
            state=DeliveryState.PENDING,
            next_attempt_at=at,
            queued_at=None,
            claim=None,
            claimed_at=None,
            # The 72-hour window starts again from the redelivery.
            window_started_at=at,
            updated_at=at,
        )


class Delivery(models.Model):
    """One event for one endpoint: the outbox row. Unique, so an event is never queued twice
    for the same endpoint."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    window_started_at = models.DateTimeField(
        default=timezone.now, help_text="Retries stop once this is further back than the window."
    )
    queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its task was last queued (the dispatcher waits before queueing it again).",
    )
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
            choices_check("state", DeliveryState, prefix="webhook_"),
            models.CheckConstraint(
                condition=models.Q(state=DeliveryState.SENDING, claim__isnull=False)
                | (~models.Q(state=DeliveryState.SENDING) & models.Q(claim__isnull=True)),
                name="webhook_delivery_claimed_while_sending",
                violation_error_message="A delivery is claimed exactly while it is sending.",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "state"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery, as the receiver answered it (or the error instead)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration = models.FloatField(help_text="Seconds.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_size = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once"),
        ]

    def __str__(self) -> str:
        outcome = self.status_code if self.status_code is not None else self.error[:60]
        return f"Attempt {self.number}: {outcome}"
