"""Make a milestone's date arrive now: plan and send its reminders as at its send moment.

For trying the reminders under `make run` (the e-mails land in var/mail) and for staff who
need to send a milestone's reminders by hand. Only that milestone is planned; the rest of the
outbox is left to the planner.
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from regulation.models import Milestone
from tracker.models import Reminder
from tracker.planner import LONDON, plan_day_reminders, plan_period_notices
from tracker.sender import send_batch


def send_moment(day: dt.date) -> dt.datetime:
    """REMINDER_SEND_HOUR on `day`, in London."""
    return dt.datetime.combine(day, dt.time(settings.REMINDER_SEND_HOUR), tzinfo=LONDON)


class Command(BaseCommand):
    help = "Plan and send a milestone's reminders as if its date had arrived (e.g. remind_now M21)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("key", help="The milestone's key, e.g. M21.")
        parser.add_argument(
            "--days-before",
            type=int,
            default=0,
            help="Arrive this many days before the date instead (e.g. 7 for the 7-day reminder).",
        )

    def handle(self, *args, key: str, days_before: int, **options) -> None:
        milestone = Milestone.objects.published().filter(key=key).first()
        if milestone is None:
            raise CommandError(f"No published milestone has the key {key!r}.")
        at = send_moment(milestone.date - dt.timedelta(days=days_before))
        with transaction.atomic():
            planned = plan_day_reminders(at=at, milestone=milestone)
            planned += plan_period_notices(at=at, milestone=milestone)
        subscribers = list(
            Reminder.objects.claimable(at=at)
            .filter(milestone=milestone)
            .values_list("subscription__subscriber_id", flat=True)
            .distinct()
            .order_by()
        )
        result = send_batch(subscribers, at=at)
        self.stdout.write(
            f"{milestone}: as at {at:%Y-%m-%d %H:%M %Z}, {planned} reminders planned, "
            f"{result.sent} e-mails sent, {result.retrying} to retry, {result.failed} failed."
        )
        if not milestone.is_day_exact:
            self.stdout.write(
                "Its date is not day-exact: only the notice for the start of its period applies."
            )
