"""Staff follow-ups: commitments whose review or due date arrives, and expected dates that passed
unconfirmed, remind the editors to check them, once per occasion.

Records name no assigned staff member, so the e-mail goes to the editors: active staff who
may change commitments (and superusers) and have an e-mail address.
"""

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse

from regulation.models import Commitment, Milestone
from tracker.links import absolute
from tracker.models import FollowUp, FollowUpKind, ReminderState
from tracker.planner import last_due_day

logger = logging.getLogger(__name__)


def _window(at: dt.datetime) -> tuple[dt.date, dt.date]:
    last = last_due_day(at)
    return last - dt.timedelta(days=settings.REMINDER_GRACE_DAYS), last


def plan_follow_ups(*, at: dt.datetime) -> int:
    """Create the follow-ups whose occasion arrived by `at` (within the grace window): a few
    queries whatever the number of records; the unique constraints make a repeat a no-op."""
    first, last = _window(at)
    # The dashboard's own questions (regulation's querysets), asked of the window's days.
    rows = [
        FollowUp(kind=FollowUpKind.REVIEW_DUE, commitment_id=pk, occasion=day, created_at=at)
        for pk, day in Commitment.objects.review_date_reached(last, since=first).values_list(
            "pk", "review_on"
        )
    ]
    rows += [
        FollowUp(kind=FollowUpKind.COMMITMENT_DUE, commitment_id=pk, occasion=day, created_at=at)
        for pk, day in Commitment.objects.open()
        .filter(due_on__range=(first, last))
        .values_list("pk", "due_on")
    ]
    # An expected date has passed once the day after its period's last day arrives.
    passed = Milestone.objects.passed_unconfirmed(last, since=first)
    rows += [
        FollowUp(kind=FollowUpKind.EXPECTED_PASSED, milestone_id=pk, occasion=day, created_at=at)
        for pk, day in passed.values_list("pk", "date_end")
    ]
    # bulk_create cannot say which rows a conflict skipped; the count before and after can.
    before = FollowUp.objects.count()
    FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    return FollowUp.objects.count() - before


def release_stuck(*, at: dt.datetime) -> int:
    """Follow-ups a sender claimed and never finished (it died) go back to pending."""
    lease = dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    stuck = FollowUp.objects.filter(state=ReminderState.SENDING, claimed_at__lt=at - lease)
    return stuck.update(state=ReminderState.PENDING, claim=None, claimed_at=None)


def has_pending() -> bool:
    return FollowUp.objects.filter(state=ReminderState.PENDING).exists()


def editors_emails() -> list[str]:
    may_change = Q(user_permissions__codename="change_commitment") | Q(
        groups__permissions__codename="change_commitment"
    )
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    users = users.filter(Q(is_superuser=True) | may_change).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _admin_url(follow_up: FollowUp) -> str:
    record = follow_up.commitment or follow_up.milestone
    meta = record._meta
    return absolute(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk]))


def send_follow_ups(*, at: dt.datetime) -> int:
    """Claim every pending follow-up, send them to the editors in one e-mail, mark them sent.
    Returns how many were sent; a failure puts them back for the next planner run."""
    token = uuid.uuid4()
    if not FollowUp.objects.filter(state=ReminderState.PENDING).update(
        state=ReminderState.SENDING, claim=token, claimed_at=at
    ):
        return 0
    claimed = FollowUp.objects.filter(claim=token, state=ReminderState.SENDING)
    follow_ups = list(claimed.select_related("commitment", "milestone").order_by("occasion"))
    recipients = editors_emails()
    items = [{"follow_up": f, "url": _admin_url(f)} for f in follow_ups]
    try:
        if not recipients:
            raise ValueError("no active editor has an e-mail address")
        EmailMessage(
            subject=f"{len(items)} records to check on the Online Safety Act tracker",
            body=render_to_string("tracker/email/follow_ups.txt", {"items": items}),
            to=recipients,
        ).send()
    except (OSError, ValueError) as error:
        with transaction.atomic():
            claimed.update(
                state=ReminderState.PENDING,
                attempts=F("attempts") + 1,
                claim=None,
                claimed_at=None,
                last_error=f"{type(error).__name__}: {error}"[:2000],
            )
        logger.warning("Staff follow-ups not sent: %s", error)
        return 0
    sent = claimed.update(state=ReminderState.SENT, sent_at=at, claim=None, last_error="")
    logger.info("Staff follow-ups: %d sent to %d editors", sent, len(recipients))
    return sent
