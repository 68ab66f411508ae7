import datetime as dt
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from regulation.dates import Certainty, Precision
from regulation.models import Status, Verification, choices_check


@dataclass(frozen=True)
class WorkerHealth:
    """The age of the planner's last run: alive when beat queued it and a worker ran it
    recently. The planner runs every PLANNER_SECONDS; missing MISSED_RUNS in a row is stale."""

    last: "PlannerRun | None"
    age: dt.timedelta | None
    stale_after: dt.timedelta

    @property
    def is_alive(self) -> bool:
        return self.age is not None and self.age <= self.stale_after

    @property
    def age_text(self) -> str:
        if self.age is None:
            return "never"
        seconds = max(int(self.age.total_seconds()), 0)
        if seconds < 120:
            return f"{seconds} seconds ago"
        if seconds < 2 * 3600:
            return f"{seconds // 60} minutes ago"
        if seconds < 2 * 86400:
            return f"{seconds // 3600} hours ago"
        return f"{seconds // 86400} days ago"


class HeartbeatQuerySet(models.QuerySet):
    def received_before(self, cutoff: dt.datetime) -> "HeartbeatQuerySet":
        return self.filter(received_at__lt=cutoff)

    def prune(self, *, at: dt.datetime, keep_days: int) -> int:
        """Delete the heartbeats received more than `keep_days` before `at`; return how many.

        Heartbeats only show that the loop is alive, so old ones are worth nothing; without
        pruning, a beat a minute grows the table by half a million rows a year.
        """
        deleted, _ = self.received_before(at - dt.timedelta(days=keep_days)).delete()
        return deleted


class Heartbeat(models.Model):
    """A row written by the worker each time beat's heartbeat task runs.

    It proves the web / beat / worker loop end to end until the reminder planner takes over.
    """

    sent_at = models.DateTimeField(
        help_text="When beat (or whoever) queued the task.", null=True, blank=True
    )
    # Indexed: the admin lists and the pruning both go by it.
    received_at = models.DateTimeField(
        auto_now_add=True, db_index=True, help_text="When the worker ran it."
    )
    worker = models.CharField(max_length=200, help_text="The worker that ran the task.")
    task_id = models.CharField(max_length=100, unique=True)

    objects = HeartbeatQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        get_latest_by = "received_at"

    def __str__(self) -> str:
        return f"{self.worker} at {self.received_at:%Y-%m-%d %H:%M:%S}"


# --- Reminders ---------------------------------------------------------------------------------
# The outbox: who watches what (Subscriber, Subscription, LeadTime), one Reminder row per
# delivery, and a PlannerRun per pass of the planner. The rules about *when* live in planner.py,
# the rules about *sending* in sender.py; both act on these rows only.


class LeadDays(models.IntegerChoices):
    # A fixed set: the planner writes one set-based statement covering every choice at once.
    ON_THE_DAY = 0, "On the day"
    ONE_DAY = 1, "1 day before"
    SEVEN_DAYS = 7, "7 days before"
    FOURTEEN_DAYS = 14, "14 days before"
    THIRTY_DAYS = 30, "30 days before"


DEFAULT_LEAD_DAYS = (30, 7, 1, 0)


class ReminderKind(models.TextChoices):
    DAY = "day", "Reminder before a date known to the day"
    PERIOD_START = "period_start", "Notice that a date's month, season, quarter or year began"
    DATE_CHANGED = "date_changed", "Notice that a date moved or was confirmed"
    STATUS_CHANGED = "status_changed", "Notice that a commitment's status changed"


# What a subscription may watch, besides everything: at most one of these is set.
TARGET_FIELDS = ("milestone", "instrument", "platform", "topic", "commitment")


class ReminderState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


def at_most_one_target() -> models.Q:
    """True when no more than one of a subscription's TARGET_FIELDS is set."""
    condition = models.Q()
    for kept in TARGET_FIELDS:
        others = {f"{name}__isnull": True for name in TARGET_FIELDS if name != kept}
        condition |= models.Q(**others)
    return condition


def validate_no_control_characters(address: str) -> None:
    """Refuse control characters and line breaks. Django's e-mail check lets them through in a
    quoted local part ("a\x01b"@example.org), and the address is written as it is into the SMTP
    envelope (RCPT TO) and the To header, where they could end or forge a command."""
    if any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in address):
        raise ValidationError(
            "An e-mail address cannot contain control characters or line breaks.",
            code="control_characters",
        )


class SubscriberQuerySet(models.QuerySet):
    def active(self) -> "SubscriberQuerySet":
        """Confirmed and not unsubscribed: the only addresses anything is ever sent to."""
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)


class Subscriber(models.Model):
    """An e-mail address that asked for reminders. Nothing is sent until it is confirmed."""

    email = models.EmailField(unique=True, validators=[validate_no_control_characters])
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the address opened its confirmation link."
    )
    unsubscribed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the address unsubscribed from everything."
    )

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None

    def confirm(self, *, at: dt.datetime) -> None:
        """The address proved it is its owner's (again, after an unsubscribe)."""
        self.confirmed_at = self.confirmed_at or at
        self.unsubscribed_at = None
        self.save(update_fields=["confirmed_at", "unsubscribed_at"])

    def unsubscribe(self, *, at: dt.datetime) -> None:
        """Stop everything, at once: every subscription needs confirming again, pending
        reminders are cancelled. Repeating it changes nothing (the first time is kept)."""
        with transaction.atomic():
            type(self).objects.filter(pk=self.pk, unsubscribed_at__isnull=True).update(
                unsubscribed_at=at
            )
            # Withdrawn, not deleted (their outbox rows still guard against a resend): a
            # confirmation link issued before now, replayed within its 48 hours, must not undo
            # the unsubscribe. A new request gets a new link.
            self.subscriptions.filter(withdrawn_at__isnull=True).update(
                confirmed_at=None, withdrawn_at=at
            )
            Reminder.objects.filter(
                subscription__subscriber=self, state=ReminderState.PENDING
            ).update(state=ReminderState.CANCELLED, updated_at=at)
        self.refresh_from_db(fields=["unsubscribed_at"])


class SubscriptionQuerySet(models.QuerySet):
    def confirmed(self) -> "SubscriptionQuerySet":
        return self.filter(confirmed_at__isnull=False)

    def confirmable(self) -> "SubscriptionQuerySet":
        """Requests a confirmation link may still confirm: not withdrawn by an unsubscribe."""
        return self.filter(withdrawn_at__isnull=True)

    def prune_unconfirmed(self, *, at: dt.datetime, valid_for: dt.timedelta) -> int:
        """Delete requests whose confirmation link has expired: they can never be confirmed."""
        deleted, _ = self.filter(confirmed_at__isnull=True, created_at__lt=at - valid_for).delete()
        return deleted


class Subscription(models.Model):
    """What one subscriber watches: everything, or one milestone, instrument, platform, topic
    or commitment.

    With no target at all it watches every published milestone and every published
    commitment's status. A platform watches its milestones and its commitments' statuses; a
    commitment only its own status; a milestone, an instrument or a topic only dates.
    """

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    milestone = models.ForeignKey(
        "regulation.Milestone", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    instrument = models.ForeignKey(
        "regulation.Instrument", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    platform = models.ForeignKey(
        "regulation.Platform", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    topic = models.ForeignKey(
        "regulation.Topic", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    commitment = models.ForeignKey(
        "regulation.Commitment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Per subscription, not only per address: a form anyone can fill in must not add what a
    # confirmed address receives without that address confirming it.
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its confirmation link was used; nothing before."
    )
    withdrawn_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the address unsubscribed from everything, this included; its "
        "confirmation link no longer works (a new request is needed).",
    )

    objects = SubscriptionQuerySet.as_manager()

    class Withdrawn(Exception):
        """The address unsubscribed after this request: confirming it would undo that."""

    class Meta:
        constraints = [
            # At most one target: the planner's matching reads each subscription one way only.
            models.CheckConstraint(
                condition=at_most_one_target(),
                name="subscription_watches_one_target",
                violation_error_message="A subscription watches one thing, or everything.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} watching {self.target_display}"

    @property
    def target(self) -> models.Model | None:
        """The one record watched; None for everything."""
        return next(
            (getattr(self, name) for name in TARGET_FIELDS if getattr(self, f"{name}_id")), None
        )

    @property
    def target_display(self) -> str:
        target = self.target
        if target is None:
            return "every date on the timeline and every commitment's status"
        if self.commitment_id:
            return f"the commitment {target}"
        return str(target)

    @property
    def watches_dates(self) -> bool:
        """Lead times apply: it watches milestones (a commitment's notices have none)."""
        return self.commitment_id is None

    @classmethod
    def request(
        cls, email: str, *, lead_days: "list[int]", **target: models.Model | None
    ) -> "Subscription":
        """A new, unconfirmed request to watch `target`: nothing changes for the address until
        its confirmation link is used, whoever filled in the form. Raises ValidationError for
        an address the Subscriber.email field refuses, whichever path it came by."""
        address = email.strip().lower()
        Subscriber._meta.get_field("email").clean(address, None)
        with transaction.atomic():
            subscriber, _ = Subscriber.objects.get_or_create(email=address)
            subscription = cls.objects.create(subscriber=subscriber, **target)
            subscription.set_lead_days(lead_days)
        return subscription

    def same_target(self) -> "SubscriptionQuerySet":
        return Subscription.objects.filter(
            subscriber=self.subscriber_id,
            **{name: getattr(self, f"{name}_id") for name in TARGET_FIELDS},
        ).exclude(pk=self.pk)

    def confirm(self, *, at: dt.datetime) -> "Subscription":
        """Confirm the request and its address. A confirmed subscription to the same target
        takes the new lead times instead (its outbox rows keep guarding against a resend).
        Returns the subscription now in force. Confirming twice changes nothing more.
        Raises Subscription.Withdrawn when the address unsubscribed after the request."""
        with transaction.atomic():
            # Locked first, so an unsubscribe committed before it is seen, and one after it
            # waits and then withdraws it.
            withdrawn = (
                Subscription.objects.confirmable().select_for_update().filter(pk=self.pk).first()
                is None
            )
            if withdrawn:
                raise Subscription.Withdrawn(self.pk)
            self.subscriber.confirm(at=at)
            existing = self.same_target().confirmed().select_for_update().first()
            if existing is None:
                self.confirmed_at = self.confirmed_at or at
                self.save(update_fields=["confirmed_at"])
                return self
            existing.set_lead_days(list(self.lead_times.values_list("days", flat=True)))
            self.delete()
            return existing

    def set_lead_days(self, days: "list[int] | tuple[int, ...]") -> None:
        self.lead_times.exclude(days__in=days).delete()
        LeadTime.objects.bulk_create(
            [LeadTime(subscription=self, days=d) for d in days], ignore_conflicts=True
        )


class LeadTime(models.Model):
    """How many days before a watched date the subscriber wants a reminder."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="lead_times"
    )
    days = models.PositiveSmallIntegerField(choices=LeadDays.choices)

    class Meta:
        ordering = ["-days"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "days"], name="lead_time_once"),
            choices_check("days", LeadDays),
        ]

    def __str__(self) -> str:
        return LeadDays(self.days).label


def still_holds() -> models.Q:
    """A reminder that is still true: its milestone is published with the date it was planned
    for (and, for a day reminder, still day-exact), or, for a status notice, its commitment is
    published; and its subscriber is still active."""
    milestone_as_planned = models.Q(
        planned_for=models.F("milestone__date"), milestone__status=Status.PUBLISHED
    )
    day_exact = models.Q(
        milestone__date_precision=Precision.DAY,
        milestone__certainty=Certainty.CONFIRMED,
        milestone__verification=Verification.CONFIRMED,
    )
    kind_fits = (models.Q(kind=ReminderKind.DAY) & day_exact) | (
        models.Q(kind=ReminderKind.PERIOD_START)
        & ~models.Q(milestone__date_precision=Precision.DAY)
    )
    active = models.Q(
        subscription__confirmed_at__isnull=False,
        subscription__subscriber__confirmed_at__isnull=False,
        subscription__subscriber__unsubscribed_at__isnull=True,
    )
    # A change notice tells of a change that happened: it holds while the milestone is public,
    # even if the date moved again since (the next notice tells of that move).
    change_notice = models.Q(kind=ReminderKind.DATE_CHANGED, milestone__status=Status.PUBLISHED)
    # Likewise a status notice, while the commitment is public.
    status_notice = models.Q(kind=ReminderKind.STATUS_CHANGED, commitment__status=Status.PUBLISHED)
    return ((milestone_as_planned & kind_fits) | change_notice | status_notice) & active


class ReminderQuerySet(models.QuerySet):
    def claimable(self, *, at: dt.datetime) -> "ReminderQuerySet":
        """Pending, still true (a date moved since planning is not sent, even before the
        planner cancels it) and not waiting for a retry's backoff to pass."""
        waited = models.Q(not_before__isnull=True) | models.Q(not_before__lte=at)
        return self.filter(waited, still_holds(), state=ReminderState.PENDING)

    def outdated(self) -> "ReminderQuerySet":
        """Pending but no longer true: to be cancelled."""
        return self.filter(state=ReminderState.PENDING).exclude(still_holds())

    def stuck(self, *, at: dt.datetime, lease: dt.timedelta) -> "ReminderQuerySet":
        """Claimed by a sender that has not finished within the lease: it died or hung."""
        return self.filter(state=ReminderState.SENDING, claimed_at__lt=at - lease)

    def resend(self, *, at: dt.datetime) -> int:
        """Staff's resend: the chosen rows go back to pending, attempts and errors cleared, for
        the next planner run to queue. Rows a sender holds right now are left alone."""
        return self.exclude(state=ReminderState.SENDING).update(
            state=ReminderState.PENDING,
            attempts=0,
            last_error="",
            not_before=None,
            claim=None,
            claimed_at=None,
            updated_at=at,
        )

    def prune_sent(self, *, at: dt.datetime, keep_days: int) -> int:
        """Delete sent and cancelled rows older than `keep_days`. A row kept while its date can
        still be planned is what stops a second send; past the grace window it guards nothing."""
        finished = [ReminderState.SENT, ReminderState.CANCELLED]
        old = self.filter(state__in=finished, updated_at__lt=at - dt.timedelta(days=keep_days))
        deleted, _ = old.delete()
        return deleted


class Reminder(models.Model):
    """One delivery in the outbox. The unique key makes a second row for the same reminder
    impossible, so planning twice (or by two planners at once) can never send it twice.

    It is about a milestone (a reminder, a period or date-change notice) or a commitment (a
    status-change notice), never both."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="reminders"
    )
    milestone = models.ForeignKey(
        "regulation.Milestone", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    commitment = models.ForeignKey(
        "regulation.Commitment",
        on_delete=models.CASCADE,
        null=True,
        db_index=False,  # a partial index below
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    planned_for = models.DateField(
        help_text="The milestone's date when this was planned; for a status notice, the date "
        "of the update it tells of."
    )
    date_change = models.ForeignKey(
        "regulation.DateChange",
        on_delete=models.CASCADE,
        null=True,
        db_index=False,  # a partial index below
        blank=True,
        related_name="+",
        help_text="The change a date-change notice tells of.",
    )
    commitment_update = models.ForeignKey(
        "regulation.CommitmentUpdate",
        on_delete=models.CASCADE,
        null=True,
        db_index=False,  # a partial index below
        blank=True,
        related_name="+",
        help_text="The status update a status-change notice tells of.",
    )
    lead_days = models.PositiveSmallIntegerField(choices=LeadDays.choices)
    state = models.CharField(
        max_length=10, choices=ReminderState.choices, default=ReminderState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Not sent before this time (a retry's backoff)."
    )
    claim = models.UUIDField(
        null=True, blank=True, editable=False, help_text="The sender run that claimed the row."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "milestone", "kind", "planned_for", "lead_days"],
                condition=models.Q(date_change__isnull=True),
                name="reminder_once",
            ),
            # One notice per subscription and status update, however many planners run.
            models.UniqueConstraint(
                fields=["subscription", "commitment_update"],
                condition=models.Q(commitment_update__isnull=False),
                name="status_change_notice_once",
            ),
            models.CheckConstraint(
                condition=models.Q(milestone__isnull=True) ^ models.Q(commitment__isnull=True),
                name="reminder_names_a_milestone_or_a_commitment",
                violation_error_message="A reminder is about a milestone or a commitment.",
            ),
            # A status notice names its commitment and its update, and nothing of a milestone;
            # every other kind is about a milestone (so reminder_once keeps holding for them).
            models.CheckConstraint(
                condition=models.Q(
                    kind=ReminderKind.STATUS_CHANGED,
                    commitment__isnull=False,
                    commitment_update__isnull=False,
                )
                | (
                    ~models.Q(kind=ReminderKind.STATUS_CHANGED)
                    & models.Q(milestone__isnull=False, commitment_update__isnull=True)
                ),
                name="reminder_status_notice_names_its_update",
            ),
            # One notice per subscription and change: a date moved away and back again is two
            # changes, each told once.
            models.UniqueConstraint(
                fields=["subscription", "date_change"],
                condition=models.Q(date_change__isnull=False),
                name="date_change_notice_once",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=ReminderKind.DATE_CHANGED, date_change__isnull=False)
                | (~models.Q(kind=ReminderKind.DATE_CHANGED) & models.Q(date_change__isnull=True)),
                name="reminder_change_notice_names_its_change",
            ),
            choices_check("kind", ReminderKind),
            choices_check("state", ReminderState),
            choices_check("lead_days", LeadDays),
        ]
        indexes = [
            models.Index(fields=["state", "not_before"], name="reminder_state_due"),
            # Most rows are a milestone's reminders, with no commitment, change or update: each
            # of these indexes holds only the rows that have one, so that marking a reminder
            # sent (a new row version, once per e-mail) writes into three indexes fewer.
            *(
                models.Index(
                    fields=[name],
                    condition=models.Q(**{f"{name}__isnull": False}),
                    name=f"reminder_{name}",
                )
                for name in ("commitment", "date_change", "commitment_update")
            ),
        ]

    def __str__(self) -> str:
        about = self.milestone_id or f"commitment {self.commitment_id}"
        return f"{self.get_kind_display()}: {about} for {self.subscription_id}"


# The planner is late when it has missed this many of its runs in a row.
MISSED_RUNS = 3


class PlannerRunQuerySet(models.QuerySet):
    def health(self, at: dt.datetime | None = None) -> WorkerHealth:
        """Beat and the worker as the planner's last run shows them at `at` (now by default):
        the one proof of life, for /healthz and the admin index alike. One query."""
        last = self.order_by("-started_at").first()
        age = (at or timezone.now()) - last.started_at if last else None
        stale_after = dt.timedelta(seconds=settings.PLANNER_SECONDS * MISSED_RUNS)
        return WorkerHealth(last=last, age=age, stale_after=stale_after)

    def prune(self, *, at: dt.datetime, keep_days: int) -> int:
        deleted, _ = self.filter(started_at__lt=at - dt.timedelta(days=keep_days)).delete()
        return deleted


class PlannerRun(models.Model):
    """One pass of the planner: the proof that beat, the broker and a worker are alive."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField()
    planned = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    released = models.PositiveIntegerField(
        default=0, help_text="Rows stuck in sending past the lease, put back to pending."
    )
    batches = models.PositiveIntegerField(default=0)

    objects = PlannerRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"Planner run at {self.started_at:%Y-%m-%d %H:%M:%S}"


# --- Staff follow-ups --------------------------------------------------------------------------


class FollowUpKind(models.TextChoices):
    REVIEW_DUE = "review_due", "A commitment's review date arrived"
    COMMITMENT_DUE = "commitment_due", "A commitment's due date arrived"
    EXPECTED_PASSED = "expected_passed", "An expected date passed unconfirmed"


class FollowUp(models.Model):
    """A record staff should check, once per occasion (the date that made it due): the same
    outbox discipline as reminders, one unique row per occasion, claimed before it is sent."""

    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    commitment = models.ForeignKey(
        "regulation.Commitment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    milestone = models.ForeignKey(
        "regulation.Milestone", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    occasion = models.DateField(help_text="The date that made the record due for a check.")
    state = models.CharField(
        max_length=10, choices=ReminderState.choices, default=ReminderState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "commitment", "occasion"],
                condition=models.Q(commitment__isnull=False),
                name="follow_up_once_per_commitment_occasion",
            ),
            models.UniqueConstraint(
                fields=["kind", "milestone", "occasion"],
                condition=models.Q(milestone__isnull=False),
                name="follow_up_once_per_milestone_occasion",
            ),
            models.CheckConstraint(
                condition=models.Q(commitment__isnull=True) ^ models.Q(milestone__isnull=True),
                name="follow_up_names_one_record",
            ),
            choices_check("kind", FollowUpKind),
            choices_check("state", ReminderState),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.commitment or self.milestone} ({self.occasion})"


# Webhook endpoints, events and deliveries (tracker/webhooks/), registered with this app.
from tracker.webhooks.models import Delivery, DeliveryAttempt, Endpoint, Event  # noqa: E402, F401
