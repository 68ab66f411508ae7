"""`manage.py remind_now M21`: a milestone's date arrives now, for trying reminders by hand."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from regulation.dates import Precision
from regulation.models import Verification
from tests.factories import make_milestone
from tests.tracker.reminders import make_day_exact_milestone, make_subscriber, subscribe
from tracker.models import Reminder, ReminderState

pytestmark = pytest.mark.django_db


def test_remind_now_sends_the_days_reminders_of_that_milestone_only(capsys):
    due = make_day_exact_milestone(key="M901", date=dt.date(2030, 6, 3), title="Due now")
    other = make_day_exact_milestone(key="M902", date=dt.date(2030, 6, 3), title="Not asked")
    reader = make_subscriber(email_address="reader@example.org")
    subscribe(reader, lead_days=[7, 0])  # everything: both milestones

    call_command("remind_now", "M901")

    [message] = mail.outbox
    assert message.to == ["reader@example.org"]
    assert message.subject == "Today: Due now"
    assert set(Reminder.objects.values_list("milestone", "state")) == {(due.pk, ReminderState.SENT)}
    assert other.title not in message.body
    assert "1 reminders planned, 1 e-mails sent" in capsys.readouterr().out


def test_remind_now_can_arrive_days_before_and_never_sends_twice():
    make_day_exact_milestone(key="M903", date=dt.date(2030, 6, 3), title="A week away")
    subscribe(lead_days=[7])

    call_command("remind_now", "M903", "--days-before", "7")
    call_command("remind_now", "M903", "--days-before", "7")

    assert [m.subject for m in mail.outbox] == ["In 7 days: A week away"]


def test_remind_now_sends_the_period_notice_of_a_month_date():
    make_milestone(
        key="M904",
        date=dt.date(2030, 6, 1),
        date_precision=Precision.MONTH,
        verification=Verification.CONFIRMED,
        title="Some time in June",
    )
    subscribe(lead_days=[0])

    call_command("remind_now", "M904")

    assert [m.subject for m in mail.outbox] == ["Now: June 2030 – Some time in June"]


def test_remind_now_names_a_key_it_does_not_know():
    with pytest.raises(CommandError, match="M999"):
        call_command("remind_now", "M999")
