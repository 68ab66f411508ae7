"""The outbox table itself refuses a second row for the same reminder and an unknown state."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from tests.tracker.reminders import make_day_exact_milestone, subscribe
from tracker.models import Reminder, ReminderKind, ReminderState, Subscription

pytestmark = pytest.mark.django_db
AT = dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.UTC)


def reminder(subscription, milestone, **fields) -> Reminder:
    values = {
        "subscription": subscription,
        "milestone": milestone,
        "kind": ReminderKind.DAY,
        "planned_for": milestone.date,
        "lead_days": 7,
        "created_at": AT,
        "updated_at": AT,
    }
    return Reminder.objects.create(**{**values, **fields})


def test_the_same_reminder_cannot_be_stored_twice():
    milestone = make_day_exact_milestone(date=dt.date(2027, 3, 17))
    subscription = subscribe(milestone=milestone, lead_days=[7])
    reminder(subscription, milestone)

    with pytest.raises(IntegrityError), transaction.atomic():
        reminder(subscription, milestone, state=ReminderState.SENT)


def test_a_reminder_for_another_lead_time_or_a_moved_date_is_a_new_row():
    milestone = make_day_exact_milestone(date=dt.date(2027, 3, 17))
    subscription = subscribe(milestone=milestone, lead_days=[7, 1])
    reminder(subscription, milestone)
    reminder(subscription, milestone, lead_days=1)
    reminder(subscription, milestone, planned_for=dt.date(2027, 3, 24))

    assert Reminder.objects.count() == 3


@pytest.mark.parametrize(
    "fields", [{"state": "lost"}, {"kind": "weekly"}, {"lead_days": 3}], ids=str
)
def test_the_database_refuses_a_value_outside_the_choices(fields):
    milestone = make_day_exact_milestone(date=dt.date(2027, 3, 17))
    subscription = subscribe(milestone=milestone, lead_days=[7])

    with pytest.raises(IntegrityError), transaction.atomic():
        reminder(subscription, milestone, **fields)


def test_a_subscription_watches_one_thing_or_everything():
    milestone = make_day_exact_milestone(date=dt.date(2027, 3, 17))
    subscription = subscribe(milestone=milestone, lead_days=[7])
    platform = milestone.platforms.model.objects.create(name="Example platform")

    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(platform=platform)
