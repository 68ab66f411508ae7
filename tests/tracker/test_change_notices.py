"""Change notices: a watched date that moves or is confirmed is told once to each subscriber,
old and new with the source, in the same e-mail as any reminder due with it."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from regulation.dates import Certainty, Precision
from regulation.models import Verification
from tests.factories import make_milestone, make_source
from tests.tracker.reminders import london, make_day_exact_milestone, make_subscriber, subscribe
from tracker.models import Reminder, ReminderKind, ReminderState
from tracker.planner import plan
from tracker.sender import send_batch

pytestmark = pytest.mark.django_db
MOVED_AT = london(2027, 2, 1, 15, 0)


def test_a_moved_date_is_told_once_with_old_new_reason_and_source(settings):
    settings.SITE_URL = "https://tracker.example.org"
    milestone = make_day_exact_milestone(date=dt.date(2027, 3, 17), title="Codes in force")
    reader = make_subscriber(email_address="reader@example.org")
    subscribe(reader, milestone=milestone, lead_days=[7])
    source = make_source(title="Ofcom update", url="https://ofcom.example/update")
    with time_machine.travel(MOVED_AT, tick=False):
        milestone.move_to(dt.date(2027, 4, 7), reason="Parliament needs longer.", source=source)

    plan(at=MOVED_AT + dt.timedelta(minutes=5))
    plan(at=MOVED_AT + dt.timedelta(minutes=10))
    result = send_batch([reader.pk], at=MOVED_AT + dt.timedelta(minutes=10))

    assert result.sent == 1
    [message] = mail.outbox
    assert message.subject == "Date changed: Codes in force"
    assert "Date changed: 17 March 2027 → 7 April 2027. Parliament needs longer." in message.body
    assert "Source: Ofcom update: https://ofcom.example/update" in message.body
    assert list(Reminder.objects.values_list("kind", "state")) == [
        (ReminderKind.DATE_CHANGED, ReminderState.SENT)
    ]


def test_a_confirmed_date_is_told_as_confirmed():
    milestone = make_milestone(
        date=dt.date(2027, 6, 1),
        date_precision=Precision.MONTH,
        certainty=Certainty.EXPECTED,
        verification=Verification.CONFIRMED,
        title="Register published",
    )
    reader = make_subscriber()
    subscribe(reader, milestone=milestone)
    with time_machine.travel(MOVED_AT, tick=False):
        milestone.move_to(
            dt.date(2027, 6, 1), certainty=Certainty.CONFIRMED, reason="Ofcom confirmed June."
        )

    plan(at=MOVED_AT + dt.timedelta(minutes=5))
    send_batch([reader.pk], at=MOVED_AT + dt.timedelta(minutes=5))

    [message] = mail.outbox
    assert message.subject == "Date confirmed: Register published"
    assert "Date confirmed: June 2027. Ofcom confirmed June." in message.body


def test_a_change_comes_in_the_same_email_as_a_reminder_due_with_it():
    watched = make_day_exact_milestone(date=dt.date(2027, 2, 8), title="Due in a week")
    moved = make_day_exact_milestone(date=dt.date(2027, 5, 1), title="Moved")
    reader = make_subscriber()
    subscribe(reader, lead_days=[7])  # every date
    with time_machine.travel(MOVED_AT, tick=False):
        moved.move_to(dt.date(2027, 6, 1), reason="Delayed.")

    plan(at=MOVED_AT + dt.timedelta(minutes=5))
    send_batch([reader.pk], at=MOVED_AT + dt.timedelta(minutes=5))

    [message] = mail.outbox
    assert message.subject == "2 dates you watch on the Online Safety Act tracker"
    assert watched.title in message.body
    assert "Date changed: 1 May 2027 → 1 June 2027. Delayed." in message.body


def test_changes_made_before_subscribing_or_to_unwatched_dates_are_not_told():
    before = make_day_exact_milestone(date=dt.date(2027, 3, 17))
    unwatched = make_day_exact_milestone(date=dt.date(2027, 3, 17))
    with time_machine.travel(MOVED_AT, tick=False):
        before.move_to(dt.date(2027, 3, 24), reason="Moved before the subscription.")
    reader = make_subscriber()
    subscription = subscribe(reader, milestone=before)
    subscription.confirmed_at = MOVED_AT + dt.timedelta(minutes=1)
    subscription.save()
    with time_machine.travel(MOVED_AT + dt.timedelta(minutes=2), tick=False):
        unwatched.move_to(dt.date(2027, 3, 24), reason="Nobody watches it.")

    plan(at=MOVED_AT + dt.timedelta(minutes=5))

    assert not Reminder.objects.exists()


def test_a_date_moved_away_and_back_is_told_twice():
    milestone = make_day_exact_milestone(date=dt.date(2027, 3, 17))
    subscribe(milestone=milestone)
    with time_machine.travel(MOVED_AT, tick=False):
        milestone.move_to(dt.date(2027, 3, 24), reason="Later.")
        milestone.move_to(dt.date(2027, 3, 17), reason="Back again.")

    plan(at=MOVED_AT + dt.timedelta(minutes=5))

    assert Reminder.objects.filter(kind=ReminderKind.DATE_CHANGED).count() == 2
