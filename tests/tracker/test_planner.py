"""The planner creates each due reminder once, late rather than never, and only while it holds."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regulation.dates import Certainty, Precision
from regulation.models import Verification
from tests.factories import make_milestone, make_platform
from tests.tracker.reminders import (
    london,
    make_day_exact_milestone,
    make_subscriber,
    subscribe,
)
from tracker.models import Reminder, ReminderKind, ReminderState, Subscriber
from tracker.planner import last_due_day, plan

pytestmark = pytest.mark.django_db

DEADLINE = dt.date(2027, 3, 17)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def planned(**filters) -> list[tuple[int, str]]:
    rows = Reminder.objects.filter(**filters).order_by("-lead_days")
    return [(r.lead_days, r.state) for r in rows]


def test_a_reminder_is_planned_when_its_day_reaches_the_send_hour_in_london(settings):
    settings.REMINDER_SEND_HOUR = 9
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscribe(milestone=milestone, lead_days=[7])

    plan(at=london(2027, 3, 10, 8, 59))
    assert planned() == []

    run = plan(at=london(2027, 3, 10, 9, 0))
    assert planned() == [(7, ReminderState.PENDING)]
    assert run.planned == 1


def test_planning_again_or_later_creates_no_second_row():
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscribe(milestone=milestone, lead_days=[7])

    plan(at=london(2027, 3, 10, 12, 0))
    again = plan(at=london(2027, 3, 10, 12, 5))
    plan(at=london(2027, 3, 11, 12, 0))

    assert again.planned == 0
    assert Reminder.objects.count() == 1


def test_a_planner_down_across_the_due_moment_plans_the_reminder_late_not_never(settings):
    settings.REMINDER_GRACE_DAYS = 2
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscribe(milestone=milestone, lead_days=[7])

    # Due on 10 March at 09:00; the first run after the outage is two days later.
    plan(at=london(2027, 3, 12, 18, 0))

    assert planned() == [(7, ReminderState.PENDING)]


def test_a_lead_time_whose_moment_passed_beyond_the_grace_window_is_skipped(settings):
    settings.REMINDER_GRACE_DAYS = 2
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscribe(milestone=milestone, lead_days=[30, 7, 1, 0])

    # 30 and 7 days before were 27 and 4 days ago: no "30 days to go" three days before.
    plan(at=london(2027, 3, 14, 10, 0))
    assert planned() == []

    plan(at=london(2027, 3, 16, 10, 0))
    assert planned() == [(1, ReminderState.PENDING)]


def test_unconfirmed_and_unsubscribed_addresses_get_nothing():
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscribe(make_subscriber(confirmed=False), milestone=milestone, lead_days=[0])
    leaver = make_subscriber()
    subscribe(leaver, milestone=milestone, lead_days=[0])
    leaver.unsubscribe(at=london(2027, 3, 1, 12, 0))

    plan(at=london(2027, 3, 17, 10, 0))

    assert planned() == []


def test_unsubscribing_cancels_a_reminder_not_yet_sent():
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscriber = make_subscriber()
    subscribe(subscriber, milestone=milestone, lead_days=[0])
    plan(at=london(2027, 3, 17, 10, 0))

    subscriber.unsubscribe(at=london(2027, 3, 17, 10, 1))
    subscriber.unsubscribe(at=london(2027, 3, 17, 10, 2))

    assert planned() == [(0, ReminderState.CANCELLED)]
    assert Subscriber.objects.get().unsubscribed_at == london(2027, 3, 17, 10, 1)


@pytest.mark.parametrize(
    "fields",
    [
        {"verification": Verification.UNVERIFIED},
        {"verification": Verification.CONFIRMED, "certainty": Certainty.EXPECTED},
        {"verification": Verification.CONFIRMED, "status": "draft"},
    ],
    ids=["unverified", "expected", "draft"],
)
def test_a_day_not_confirmed_by_a_source_gets_no_day_exact_reminder(fields):
    milestone = make_milestone(date=DEADLINE, **fields)
    subscribe(milestone=milestone, lead_days=[7, 0])

    plan(at=london(2027, 3, 17, 10, 0))

    assert planned() == []


def test_a_month_date_gets_one_notice_when_its_month_begins_and_no_lead_time_reminders():
    milestone = make_milestone(
        date=dt.date(2027, 6, 1),
        date_precision=Precision.MONTH,
        verification=Verification.CONFIRMED,
    )
    subscribe(milestone=milestone, lead_days=[30, 7, 1, 0])

    plan(at=london(2027, 5, 31, 10, 0))
    assert planned() == []

    plan(at=london(2027, 6, 1, 10, 0))
    plan(at=london(2027, 6, 2, 10, 0))
    notices = Reminder.objects.all()
    assert [(r.kind, r.planned_for, r.state) for r in notices] == [
        (ReminderKind.PERIOD_START, dt.date(2027, 6, 1), ReminderState.PENDING)
    ]


def test_a_moved_date_cancels_the_pending_reminder_and_plans_one_for_the_new_date():
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscribe(milestone=milestone, lead_days=[7])
    plan(at=london(2027, 3, 10, 10, 0))

    milestone.move_to(dt.date(2027, 3, 24), reason="Ofcom moved it by a week.")
    run = plan(at=london(2027, 3, 10, 10, 5))
    assert run.cancelled == 1
    assert [(r.planned_for, r.state) for r in Reminder.objects.all()] == [
        (DEADLINE, ReminderState.CANCELLED)
    ]

    plan(at=london(2027, 3, 17, 10, 0))
    rows = Reminder.objects.order_by("planned_for")
    assert [(r.planned_for, r.state) for r in rows] == [
        (DEADLINE, ReminderState.CANCELLED),
        (dt.date(2027, 3, 24), ReminderState.PENDING),
    ]


def test_a_date_moved_to_a_month_only_cancels_its_day_reminder():
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscribe(milestone=milestone, lead_days=[7])
    plan(at=london(2027, 3, 10, 10, 0))

    milestone.move_to(dt.date(2027, 5, 1), precision=Precision.MONTH, reason="Only May is known.")
    plan(at=london(2027, 3, 10, 10, 5))

    assert planned() == [(7, ReminderState.CANCELLED)]


@pytest.mark.parametrize(
    ("day", "before", "at_the_hour"),
    [
        # Clocks go forward at 01:00 UTC: 09:00 in London is 08:00 UTC.
        (dt.date(2027, 3, 28), utc(2027, 3, 28, 7, 59), utc(2027, 3, 28, 8, 0)),
        # Clocks go back at 01:00 UTC: 09:00 in London is 09:00 UTC.
        (dt.date(2027, 10, 31), utc(2027, 10, 31, 8, 59), utc(2027, 10, 31, 9, 0)),
    ],
    ids=["clocks-forward", "clocks-back"],
)
def test_reminders_on_dst_change_days_are_due_at_the_local_send_hour(
    settings, day, before, at_the_hour
):
    settings.REMINDER_SEND_HOUR = 9
    milestone = make_day_exact_milestone(date=day)
    subscribe(milestone=milestone, lead_days=[0])

    plan(at=before)
    assert planned() == []

    plan(at=at_the_hour)
    assert planned() == [(0, ReminderState.PENDING)]


def test_last_due_day_turns_at_the_send_hour_local_time(settings):
    settings.REMINDER_SEND_HOUR = 9
    assert last_due_day(london(2027, 7, 1, 8, 59)) == dt.date(2027, 6, 30)
    assert last_due_day(london(2027, 7, 1, 9, 0)) == dt.date(2027, 7, 1)


def test_subscriptions_match_what_they_watch():
    ofcom_codes = make_platform(name="Platform watched")
    on_platform = make_day_exact_milestone(date=DEADLINE, platforms=[ofcom_codes])
    elsewhere = make_day_exact_milestone(date=DEADLINE)
    everything = subscribe(lead_days=[0])
    platform_only = subscribe(platform=ofcom_codes, lead_days=[0])
    one_milestone = subscribe(milestone=elsewhere, lead_days=[0])

    plan(at=london(2027, 3, 17, 10, 0))

    def watched(subscription) -> set[int]:
        return set(
            Reminder.objects.filter(subscription=subscription).values_list("milestone", flat=True)
        )

    assert watched(everything) == {on_platform.pk, elsewhere.pk}
    assert watched(platform_only) == {on_platform.pk}
    assert watched(one_milestone) == {elsewhere.pk}


def test_planning_takes_the_same_queries_for_three_subscribers_as_for_thirty(
    django_capture_on_commit_callbacks, settings
):
    settings.REMINDER_BATCH_SIZE = 1000
    milestone = make_day_exact_milestone(date=DEADLINE)

    def plan_counting_queries() -> tuple[int, int]:
        Reminder.objects.all().delete()
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as queued,
        ):
            plan(at=london(2027, 3, 10, 10, 0))
        return len(queries), len(queued)

    for _ in range(3):
        subscribe(milestone=milestone, lead_days=[7])
    few = plan_counting_queries()
    for _ in range(27):
        subscribe(milestone=milestone, lead_days=[7])
    many = plan_counting_queries()

    assert Reminder.objects.count() == 30
    assert few == many
    assert many[1] == 1  # one send batch queued, after commit


def test_the_day_itself_is_always_told_once_whatever_lead_times_were_chosen():
    milestone = make_day_exact_milestone(date=DEADLINE)
    seven_only = subscribe(milestone=milestone, lead_days=[7])
    with_the_day = subscribe(milestone=milestone, lead_days=[7, 0])  # stored before it was a rule
    none_chosen = subscribe(milestone=milestone, lead_days=[])

    plan(at=london(2027, 3, 17, 10, 0))
    plan(at=london(2027, 3, 17, 10, 5))

    on_the_day = Reminder.objects.filter(kind=ReminderKind.DAY, lead_days=0)
    assert sorted(on_the_day.values_list("subscription", flat=True)) == sorted(
        [seven_only.pk, with_the_day.pk, none_chosen.pk]
    )
